import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models


class Migration(migrations.Migration):
    """Rebuild the search vector from the names alone.

    PostgreSQL cannot change a generated column's expression in place, so the
    column and its index are dropped and added again.
    """

    dependencies = [
        ("contacts", "0002_add_list_sort_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="contact", name="contact_search"),
        migrations.RemoveField(model_name="contact", name="search_vector"),
        migrations.AddField(
            model_name="contact",
            name="search_vector",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.contrib.postgres.search.SearchVector(
                    "first_name", "last_name", config="simple"
                ),
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
        migrations.AddIndex(
            model_name="contact",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_vector"], name="contact_search"
            ),
        ),
    ]
