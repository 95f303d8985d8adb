from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('ticketbot', '0001_initial')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Article',
            name='display_text',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddIndex(
            model_name='Article',
            index=Index(fields=['ticket_id', 'slack_ts']),
        ),
        ops.AddField(
            model_name='Attachment',
            name='slack_file_id',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddField(
            model_name='Attachment',
            name='too_large',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Ticket',
            name='link_reason',
            field=fields.CharField(default='', db_default='', max_length=40),
        ),
        ops.AddField(
            model_name='Ticket',
            name='owner_active_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
