{#
    Reconciliation between two aggregations of the same figures: `left` and `right` are
    select statements that each return the `keys` and `measures` columns, one row per key.
    Renders a query returning the keys whose measures differ (a missing row counts as
    zeros), with both sides' values, so that a singular test fails with what disagrees.
#}
{% macro reconcile(left, right, keys, measures) -%}
with

left_side as (
    {{ left }}
),

right_side as (
    {{ right }}
),

final as (
    select
        {%- for key in keys %}
        coalesce(left_side.{{ key }}, right_side.{{ key }}) as {{ key }},
        {%- endfor %}
        {%- for measure in measures %}
        left_side.{{ measure }} as left_{{ measure }},
        right_side.{{ measure }} as right_{{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from left_side
    full outer join right_side
        on
            {%- for key in keys %}
            {{ 'and ' if not loop.first }}left_side.{{ key }} = right_side.{{ key }}
            {%- endfor %}
    where
        {%- for measure in measures %}
        {{ 'or ' if not loop.first }}coalesce(left_side.{{ measure }}, 0)
        <> coalesce(right_side.{{ measure }}, 0)
        {%- endfor %}
)

select * from final
{%- endmacro %}
