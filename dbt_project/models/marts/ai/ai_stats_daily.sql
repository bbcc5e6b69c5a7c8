-- One row per day (reporting time zone) and model with AI activity (METRICS.md, AI):
-- classifications, feedback and accuracy, generations, errors and the error rate.
-- Accuracy and rates do not add up: recompute them from the counts for a range.
{%- set parts = ['classifications', 'generations', 'errors'] %}
{%- set keys = ['activity_date', 'model'] %}

{{ daily_mart('activity_date') }}

with

classifications as (
    select
        classified_date as activity_date,
        model,
        count(*) as classifications,
        count(is_correct) as classifications_with_feedback,
        count(*) filter (where is_correct) as correct_classifications,
        avg(confidence) as avg_confidence
    from {{ ref('fct_ai_classifications') }}
    where {{ on_changed_days('classified_date') }}
    group by classified_date, model
),

generations as (
    select
        generated_date as activity_date,
        model,
        count(*) as generations,
        coalesce(sum(input_tokens), 0) as input_tokens,
        coalesce(sum(output_tokens), 0) as output_tokens
    from {{ ref('fct_ai_generations') }}
    where {{ on_changed_days('generated_date') }}
    group by generated_date, model
),

errors as (
    select
        errored_date as activity_date,
        model,
        count(*) as errors
    from {{ ref('fct_ai_errors') }}
    where {{ on_changed_days('errored_date') }}
    group by errored_date, model
),

model_days as (
    {{ keys_of(parts, keys) }}
),

final as (
    select
        model_days.activity_date,
        model_days.model,
        coalesce(classifications.classifications, 0) as classifications,
        coalesce(classifications.classifications_with_feedback, 0)
            as classifications_with_feedback,
        coalesce(classifications.correct_classifications, 0) as correct_classifications,
        classifications.correct_classifications::numeric
        / nullif(classifications.classifications_with_feedback, 0) as accuracy,
        classifications.avg_confidence,
        coalesce(generations.generations, 0) as generations,
        coalesce(generations.input_tokens, 0) as input_tokens,
        coalesce(generations.output_tokens, 0) as output_tokens,
        coalesce(errors.errors, 0) as errors,
        coalesce(errors.errors, 0)::numeric / (
            coalesce(classifications.classifications, 0)
            + coalesce(generations.generations, 0)
            + coalesce(errors.errors, 0)
        ) as error_rate,
        {{ run_stamp() }} as refreshed_load_id
    from model_days
    {{ left_join_on_keys('model_days', parts, keys) }}
)

select * from final
