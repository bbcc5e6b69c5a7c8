-- The message funnel's stages add up to whatsapp_stats_daily's sent, delivered, read and
-- replied messages of each day. Fails with the days that differ.
{{ config(meta={"dagster": {"ref": {"name": "whatsapp_message_funnel_daily"}}}) }}
{{ reconcile(
    left="select activity_date, messages_sent, messages_delivered, messages_read,
        messages_replied from " ~ ref('whatsapp_stats_daily'),
    right="select activity_date,
        sum(messages) filter (where stage = 'sent') as messages_sent,
        sum(messages) filter (where stage = 'delivered') as messages_delivered,
        sum(messages) filter (where stage = 'read') as messages_read,
        sum(messages) filter (where stage = 'replied') as messages_replied
        from " ~ ref('whatsapp_message_funnel_daily') ~ " group by activity_date",
    keys=['activity_date'],
    measures=['messages_sent', 'messages_delivered', 'messages_read', 'messages_replied'],
) }}
