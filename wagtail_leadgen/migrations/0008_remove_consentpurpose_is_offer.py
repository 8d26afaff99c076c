from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("wagtail_leadgen", "0007_offer_purposes_to_request_processing")]

    operations = [
        migrations.RemoveField(model_name="consentpurpose", name="is_offer"),
    ]
