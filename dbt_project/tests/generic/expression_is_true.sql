{#
    A row-level invariant: the SQL boolean expression holds on every row of the model (for
    example "ended_at >= started_at"). Rows where the expression is null pass, like a CHECK
    constraint. Usable on a model or on a column (the column only names the test).
    Fails with the offending rows.
#}
{% test expression_is_true(model, expression, column_name=none) %}

    select *
    from {{ model }}
    where not ({{ expression }})

{% endtest %}
