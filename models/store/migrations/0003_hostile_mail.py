from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('ticketbot', '0002_work_from_slack')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MailAttempt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=500)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('inbound', fields.ForeignKeyField('ticketbot.InboundMessage', source_field='inbound_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'mail_attempt', 'app': 'ticketbot', 'pk_attr': 'id', 'table_description': 'How often the intake of one mail (by its source key) was started, and how it ended.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Attachment',
            name='disk_full',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Article',
            name='incomplete',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddIndex(
            model_name='Article',
            index=Index(fields=['is_autoreply', 'created_at']),
        ),
        ops.AddIndex(
            model_name='OutboxItem',
            index=Index(fields=['status', 'stream', 'id']),
        ),
        ops.AddField(
            model_name='Ticket',
            name='reply_address',
            field=fields.CharField(default='', db_default='', max_length=320),
        ),
    ]
