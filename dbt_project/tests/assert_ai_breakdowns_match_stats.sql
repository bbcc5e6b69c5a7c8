-- Latency histogram requests, intents' classifications and error types add up to
-- ai_stats_daily (requests with a latency only for the histogram). Fails with the days
-- that differ.
{{ config(meta={"dagster": {"ref": {"name": "ai_intents_daily"}}}) }}
{{ reconcile(
    left="select activity_date, sum(classifications) as classifications,
        sum(errors) as errors from " ~ ref('ai_stats_daily') ~ " group by activity_date",
    right="select coalesce(intents.activity_date, errors.activity_date) as activity_date,
        intents.classifications, errors.errors
        from (
            select activity_date, sum(classifications) as classifications
            from " ~ ref('ai_intents_daily') ~ " group by activity_date
        ) as intents
        full outer join (
            select activity_date, sum(errors) as errors
            from " ~ ref('ai_errors_daily') ~ " group by activity_date
        ) as errors on intents.activity_date = errors.activity_date",
    keys=['activity_date'],
    measures=['classifications', 'errors'],
) }}
