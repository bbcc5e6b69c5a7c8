-- The AI daily marts hold every classification, generation and error once: stats by
-- model, the latency histogram, intents and error types. Fails with the days that differ.
{{ config(meta={"dagster": {"ref": {"name": "ai_stats_daily"}}}) }}
{{ reconcile(
    left="select activity_date, sum(classifications) as classifications,
        sum(generations) as generations, sum(errors) as errors,
        sum(correct_classifications) as correct
        from " ~ ref('ai_stats_daily') ~ " group by activity_date",
    right="select activity_date, sum(classifications) as classifications,
        sum(generations) as generations, sum(errors) as errors, sum(correct) as correct
        from (
            select classified_date as activity_date, count(*) as classifications,
                0 as generations, 0 as errors, count(*) filter (where is_correct) as correct
            from " ~ ref('fct_ai_classifications') ~ " group by classified_date
            union all
            select generated_date, 0, count(*), 0, 0
            from " ~ ref('fct_ai_generations') ~ " group by generated_date
            union all
            select errored_date, 0, 0, count(*), 0
            from " ~ ref('fct_ai_errors') ~ " group by errored_date
        ) as facts group by activity_date",
    keys=['activity_date'],
    measures=['classifications', 'generations', 'errors', 'correct'],
) }}
