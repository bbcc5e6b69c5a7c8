{#
    A composite key holds: no two rows share the same values in combination_of_columns.
    Nulls compare equal here (group by), so a null in a key column is a duplicate like any
    other value. Fails with one row per duplicated key.
#}
{% test unique_combination(model, combination_of_columns) %}

    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as duplicate_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1

{% endtest %}
