{#
    None of `column_names` is null: the `not_null` checks of a model in one query (one dbt
    node per model instead of one per column; a refresh runs every test, and dbt's cost per
    node, not the query, was most of a small refresh's test time). Fails with one row per
    offending row, naming its null columns.
#}
{% test columns_not_null(model, column_names) %}

    select
        concat_ws(
            ', '
            {%- for column in column_names %},
                case when {{ column }} is null then '{{ column }}' end
            {%- endfor %}
        ) as null_columns
    from {{ model }}
    where
        {%- for column in column_names %}
            {{ "or " if not loop.first }}{{ column }} is null
        {%- endfor %}

{% endtest %}
