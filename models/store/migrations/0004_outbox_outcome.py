from tortoise import migrations
from tortoise.migrations import operations as ops
from models.outbox.items import Outcome
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('ticketbot', '0003_hostile_mail')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutboxItem',
            name='outcome',
            field=fields.CharEnumField(default=Outcome.PENDING, description='PENDING: pending\nDELIVERED: delivered\nRETRY: retry\nMAYBE_DELIVERED: maybe_delivered\nDEAD: dead', db_default='pending', enum_type=Outcome, max_length=16),
        ),
    ]
