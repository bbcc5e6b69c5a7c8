-- The response-time histogram holds every answered wait once, and the daily figures count
-- every wait. Fails with the days and responders that differ.
{{ config(meta={"dagster": {"ref": {"name": "whatsapp_response_time_histogram_daily"}}}) }}
{{ reconcile(
    left="select activity_date, responder, sum(waits) as answered_waits
        from " ~ ref('whatsapp_response_time_histogram_daily') ~ "
        group by activity_date, responder
        union all
        select activity_date, 'any', answered_waits from "
        ~ ref('whatsapp_response_times_daily'),
    right="select wait_date as activity_date, responder, count(*) as answered_waits
        from " ~ ref('fct_whatsapp_response_times') ~ " where is_answered
        group by wait_date, responder
        union all
        select wait_date, 'any', count(*) filter (where is_answered)
        from " ~ ref('fct_whatsapp_response_times') ~ " group by wait_date",
    keys=['activity_date', 'responder'],
    measures=['answered_waits'],
) }}
