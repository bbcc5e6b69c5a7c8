{#- The AI requests with a latency (classifications and generations) of the changed days:
    event_id, kind (`classification`, `generation`), model, latency_ms and activity_date.
    `with_latency_only` leaves out the requests that reported none. -#}
{% macro ai_requests_on_changed_days(with_latency_only=true) -%}
    {%- for kind, model, date_column in [
        ('classification', 'fct_ai_classifications', 'classified_date'),
        ('generation', 'fct_ai_generations', 'generated_date'),
    ] %}
    {{ 'union all' if not loop.first }}
    select
        event_id,
        '{{ kind }}' as kind,
        model,
        latency_ms,
        {{ date_column }} as activity_date
    from {{ ref(model) }}
    where
        {{ 'latency_ms is not null and' if with_latency_only }}
        {{ on_changed_days(date_column) }}
    {%- endfor %}
{%- endmacro %}
