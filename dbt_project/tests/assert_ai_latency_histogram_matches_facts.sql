-- Every classification and generation with a latency is in exactly one latency bucket.
-- Fails with the days, kinds and models that differ.
{{ config(meta={"dagster": {"ref": {"name": "ai_latency_histogram_daily"}}}) }}
{{ reconcile(
    left="select activity_date, kind, model, sum(requests) as requests
        from " ~ ref('ai_latency_histogram_daily') ~ " group by activity_date, kind, model",
    right="select classified_date as activity_date, 'classification' as kind, model,
            count(latency_ms) as requests
        from " ~ ref('fct_ai_classifications') ~ " group by classified_date, model
        union all
        select generated_date, 'generation', model, count(latency_ms)
        from " ~ ref('fct_ai_generations') ~ " group by generated_date, model",
    keys=['activity_date', 'kind', 'model'],
    measures=['requests'],
) }}
