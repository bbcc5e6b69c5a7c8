-- kra_daily counts every conversation of fct_conversations once, on its start day, by
-- status. Fails with the days that differ.
{{ config(meta={"dagster": {"ref": {"name": "kra_daily"}}}) }}
{{ reconcile(
    left="select activity_date, sum(chats_started) as started, sum(chats_resolved) as resolved,
        sum(chats_dropped) as dropped, sum(chats_open) as open,
        sum(chats_escalated) as escalated, sum(csat_responses) as rated
        from " ~ ref('kra_daily') ~ " group by activity_date",
    right="select started_date as activity_date, count(*) as started,
        count(*) filter (where status = 'resolved') as resolved,
        count(*) filter (where status = 'dropped') as dropped,
        count(*) filter (where status = 'open') as open,
        count(*) filter (where is_escalated) as escalated,
        count(csat_score) as rated
        from " ~ ref('fct_conversations') ~ " group by started_date",
    keys=['activity_date'],
    measures=['started', 'resolved', 'dropped', 'open', 'escalated', 'rated'],
) }}
