{#
    The reporting time zone (ANALYTICS_TIMEZONE, CONTRACT.md section 2): every *_date,
    hour_of_day and day_of_week in the marts is computed in it.
#}
{% macro reporting_tz() -%}
    '{{ env_var("ANALYTICS_TIMEZONE", "UTC") }}'
{%- endmacro %}

{% macro local_date(column) -%}
    ({{ column }} at time zone {{ reporting_tz() }})::date
{%- endmacro %}

{% macro local_hour(column) -%}
    extract(hour from {{ column }} at time zone {{ reporting_tz() }})::integer
{%- endmacro %}

{% macro local_isodow(column) -%}
    extract(isodow from {{ column }} at time zone {{ reporting_tz() }})::integer
{%- endmacro %}

{% macro seconds_between(later, earlier) -%}
    extract(epoch from ({{ later }} - {{ earlier }}))::numeric
{%- endmacro %}

{#
    A numeric property of an event: the JSON number at `key` of `properties`, null when it
    is missing or not a number (producers send what they send; a string never breaks a cast).
#}
{% macro json_number(properties, key) -%}
    case
        when jsonb_typeof({{ properties }} -> '{{ key }}') = 'number'
            then ({{ properties }} ->> '{{ key }}')::numeric
    end
{%- endmacro %}


{#- `expression` (>= 0) rounded to three significant digits, halves away from zero, as an
    integer: whole units below 1,000, tens below 10,000, and so on (relative error at most
    0.5 %). -#}
{% macro three_significant_digits(expression) -%}
    (case
        when {{ expression }} < 1000 then round({{ expression }})
        else round({{ expression }}, 2 - floor(log({{ expression }}))::integer)
    end)::integer
{%- endmacro %}
