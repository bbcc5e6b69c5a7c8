{#
    Every non-null value of the column lies in [min_value, max_value] (inclusive); either bound
    may be left out. For rates and shares (0-1), durations (>= 0), hour_of_day (0-23) and
    day_of_week (1-7). Fails with one row per value out of range.
#}
{% test between(model, column_name, min_value=none, max_value=none) %}

    select {{ column_name }} as value_out_of_range
    from {{ model }}
    where
        {{ column_name }} is not null
        and (
            false
            {%- if min_value is not none %}
                or {{ column_name }} < {{ min_value }}
            {%- endif %}
            {%- if max_value is not none %}
                or {{ column_name }} > {{ max_value }}
            {%- endif %}
        )

{% endtest %}
