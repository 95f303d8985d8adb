from tortoise import migrations
from tortoise.migrations import operations as ops
from models.store.article import ArticleKind
from models.outbox.items import OutboxStatus
from models.store.ticket import TicketState
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='MailboxState',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('mailbox', fields.CharField(unique=True, max_length=500)),
                ('uidvalidity', fields.BigIntField(null=True)),
                ('last_uid', fields.BigIntField(default=0)),
                ('lease_owner', fields.CharField(default='', max_length=200)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'mailbox_state', 'app': 'ticketbot', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxItem',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=64)),
                ('stream', fields.CharField(db_index=True, max_length=100)),
                ('payload', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('status', fields.CharEnumField(default=OutboxStatus.PENDING, description='PENDING: pending\nDONE: done\nDEAD: dead', enum_type=OutboxStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('lease_owner', fields.CharField(default='', max_length=200)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('done_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox', 'app': 'ticketbot', 'indexes': [Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Ticket',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('number', fields.CharField(unique=True, max_length=32)),
                ('queue', fields.CharField(db_index=True, max_length=100)),
                ('subject', fields.TextField(unique=False)),
                ('customer_email', fields.CharField(db_index=True, max_length=320)),
                ('customer_name', fields.CharField(default='', max_length=200)),
                ('state', fields.CharEnumField(default=TicketState.NEW, db_index=True, description='NEW: new\nOPEN: open\nPENDING: pending\nCLOSED: closed', enum_type=TicketState, max_length=16)),
                ('owner_id', fields.CharField(null=True, max_length=32)),
                ('claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_activity_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('first_response_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('escalated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('slack_channel', fields.CharField(default='', max_length=32)),
                ('slack_ts', fields.CharField(null=True, max_length=32)),
                ('linked_ticket', fields.ForeignKeyField('ticketbot.Ticket', source_field='linked_ticket_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ticket', 'app': 'ticketbot', 'indexes': [Index(fields=['state', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Article',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('ticketbot.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='articles', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='EMAIL_IN: email_in\nEMAIL_OUT: email_out\nNOTE: note\nSYSTEM: system', enum_type=ArticleKind, max_length=16)),
                ('author', fields.CharField(default='', max_length=320)),
                ('author_name', fields.CharField(default='', max_length=200)),
                ('sender', fields.CharField(default='', max_length=320)),
                ('recipients', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('to_address', fields.CharField(default='', max_length=320)),
                ('cc', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('subject', fields.TextField(default='', unique=False)),
                ('body', fields.TextField(default='', unique=False)),
                ('message_id', fields.CharField(null=True, db_index=True, max_length=998)),
                ('in_reply_to', fields.CharField(null=True, max_length=998)),
                ('references', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('is_automatic', fields.BooleanField(default=False)),
                ('is_autoreply', fields.BooleanField(default=False)),
                ('minutes_spent', fields.IntField(default=0)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('slack_ts', fields.CharField(null=True, max_length=32)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'article', 'app': 'ticketbot', 'indexes': [Index(fields=['is_autoreply', 'to_address', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Attachment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('article', fields.ForeignKeyField('ticketbot.Article', source_field='article_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('filename', fields.CharField(max_length=255)),
                ('content_type', fields.CharField(max_length=255)),
                ('size', fields.BigIntField()),
                ('sha256', fields.CharField(db_index=True, max_length=64)),
                ('content_id', fields.CharField(null=True, max_length=255)),
                ('is_inline', fields.BooleanField(default=False)),
                ('storage_path', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'attachment', 'app': 'ticketbot', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='History',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('ticketbot.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='history', on_delete=OnDelete.CASCADE)),
                ('event', fields.CharField(db_index=True, max_length=40)),
                ('actor', fields.CharField(default='system', max_length=320)),
                ('detail', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ticket_history', 'app': 'ticketbot', 'pk_attr': 'id', 'table_description': 'What happened to a ticket, by whom and when. Rows are never updated or deleted.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InboundMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message_id', fields.CharField(default='', max_length=998)),
                ('digest', fields.CharField(max_length=64)),
                ('raw_source', fields.BinaryField()),
                ('size', fields.BigIntField()),
                ('source', fields.CharField(default='', max_length=320)),
                ('ticket', fields.ForeignKeyField('ticketbot.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('article', fields.ForeignKeyField('ticketbot.Article', source_field='article_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('outcome', fields.CharField(default='', max_length=40)),
                ('defects', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'inbound_message', 'app': 'ticketbot', 'unique_together': (('message_id', 'digest'),), 'pk_attr': 'id', 'table_description': 'The raw RFC 822 source of every mail received, and the key that de-duplicates it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TicketCounter',
            fields=[
                ('day', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=8)),
                ('value', fields.IntField(default=0)),
            ],
            options={'table': 'ticket_counter', 'app': 'ticketbot', 'pk_attr': 'day', 'table_description': 'The daily counter behind ticket numbers, bumped atomically in SQL.'},
            bases=['Model'],
        ),
    ]
