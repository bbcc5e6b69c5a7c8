{#
    Histogram buckets as a relation (bucket_order, bucket, lower_bound, upper_bound): the
    lower bound is inclusive, the upper exclusive, null for the open last bucket. Join a
    measure to it with `bucket_join`.
#}
{% macro bucket_relation(name) -%}
    {%- set definitions = {
        'session_duration_seconds': [
            ['0-10 s', 0, 10], ['10-30 s', 10, 30], ['30-60 s', 30, 60],
            ['1-3 min', 60, 180], ['3-10 min', 180, 600], ['10-30 min', 600, 1800],
            ['30+ min', 1800, none],
        ],
        'response_time_seconds': [
            ['<1m', 0, 60], ['1-5m', 60, 300], ['5-15m', 300, 900], ['15-30m', 900, 1800],
            ['30-60m', 1800, 3600], ['1-4h', 3600, 14400], ['>=4h', 14400, none],
        ],
        'ai_latency_ms': [
            ['<250ms', 0, 250], ['250-500ms', 250, 500], ['500-1000ms', 500, 1000],
            ['1-2s', 1000, 2000], ['2-5s', 2000, 5000], ['>=5s', 5000, none],
        ],
    } -%}
    {%- if name not in definitions -%}
        {{ exceptions.raise_compiler_error(
            "unknown histogram '" ~ name ~ "'; known: " ~ (definitions.keys() | sort | join(', '))
        ) }}
    {%- endif -%}
    (
        values
        {%- for label, lower, upper in definitions[name] %}
        ({{ loop.index }}, '{{ label }}', {{ lower }}::numeric, {{ 'null' if upper is none else upper }}::numeric)
        {{- ',' if not loop.last }}
        {%- endfor %}
    ) as buckets (bucket_order, bucket, lower_bound, upper_bound)
{%- endmacro %}

{% macro bucket_join(measure) -%}
    {{ measure }} >= buckets.lower_bound
    and (buckets.upper_bound is null or {{ measure }} < buckets.upper_bound)
{%- endmacro %}
