-- The duration, response-time and latency distributions hold every session, answered wait
-- and AI request once, with its exact value in the totals. Fails with the days and groups
-- whose counts or totals differ.
{{ config(meta={"dagster": {"ref": {"name": "session_duration_distribution_daily"}}}) }}
{{ reconcile(
    left="select activity_date, 'session' as measure, sum(sessions) as items,
            sum(total_duration_seconds) as total
        from " ~ ref('session_duration_distribution_daily') ~ " group by activity_date
        union all
        select activity_date, 'wait|' || responder, sum(waits), sum(total_response_seconds)
        from " ~ ref('whatsapp_response_time_distribution_daily') ~ "
        group by activity_date, responder
        union all
        select activity_date, kind || '|' || model, sum(requests), sum(total_latency_ms)
        from " ~ ref('ai_latency_distribution_daily') ~ " group by activity_date, kind, model",
    right="select started_date as activity_date, 'session' as measure,
            count(duration_seconds) as items, sum(duration_seconds) as total
        from " ~ ref('fct_sessions') ~ " group by started_date
        union all
        select wait_date, 'wait|' || responder, count(*), sum(response_seconds)
        from " ~ ref('fct_whatsapp_response_times') ~ " where is_answered
        group by wait_date, responder
        union all
        select classified_date, 'classification|' || model, count(latency_ms), sum(latency_ms)
        from " ~ ref('fct_ai_classifications') ~ " where latency_ms is not null
        group by classified_date, model
        union all
        select generated_date, 'generation|' || model, count(latency_ms), sum(latency_ms)
        from " ~ ref('fct_ai_generations') ~ " where latency_ms is not null
        group by generated_date, model",
    keys=['activity_date', 'measure'],
    measures=['items', 'total'],
) }}
