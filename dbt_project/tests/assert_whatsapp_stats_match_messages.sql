-- whatsapp_stats_daily counts every message of fct_whatsapp_messages on its send day, with
-- its statuses. Fails with the days that differ.
{{ config(meta={"dagster": {"ref": {"name": "whatsapp_stats_daily"}}}) }}
{{ reconcile(
    left="select activity_date, messages_received, messages_sent, messages_delivered,
        messages_read, messages_failed, messages_replied
        from " ~ ref('whatsapp_stats_daily'),
    right="select sent_date as activity_date,
        count(*) filter (where direction = 'inbound') as messages_received,
        count(*) filter (where direction = 'outbound') as messages_sent,
        count(*) filter (where is_delivered) as messages_delivered,
        count(*) filter (where is_read) as messages_read,
        count(*) filter (where is_failed) as messages_failed,
        count(*) filter (where is_replied) as messages_replied
        from " ~ ref('fct_whatsapp_messages') ~ " group by sent_date",
    keys=['activity_date'],
    measures=['messages_received', 'messages_sent', 'messages_delivered', 'messages_read',
        'messages_failed', 'messages_replied'],
) }}
