{#
    The row-level rules of a model in one query: ranges and invariants that hold on every
    row. One dbt node per model instead of one per rule: dbt's own cost per node (compiling
    it, its events, its Dagster asset check), not the query, was most of an incremental
    refresh at 10 M events (docs/benchmarks.md).

    Each rule is either a range of a column (`min_value`, `max_value`, inclusive, either
    may be left out; null values pass: rates 0-1, durations >= 0, hours 0-23) or an
    `expression` true on every row (null passes, like a CHECK constraint); `column` names
    the column a rule is about. Fails with one row per broken rule: the rule and how many
    rows break it (`analytics refresh` prints them).
#}
{% test row_rules(model, rules) %}

    {%- set checks = [] -%}
    {%- for rule in rules -%}
        {%- if rule.expression is defined -%}
            {%- set broken = '(' ~ rule.expression ~ ') is false' -%}
            {%- set text = rule.expression -%}
        {%- else -%}
            {%- set bounds = [] -%}
            {%- set words = [] -%}
            {%- if rule.min_value is defined and rule.min_value is not none -%}
                {%- do bounds.append(rule.column ~ ' < ' ~ rule.min_value) -%}
                {%- do words.append('>= ' ~ rule.min_value) -%}
            {%- endif -%}
            {%- if rule.max_value is defined and rule.max_value is not none -%}
                {%- do bounds.append(rule.column ~ ' > ' ~ rule.max_value) -%}
                {%- do words.append('<= ' ~ rule.max_value) -%}
            {%- endif -%}
            {%- if not bounds -%}
                {{ exceptions.raise_compiler_error(
                    'row_rules on ' ~ model ~ ': a rule needs an expression, or a column with '
                    ~ 'min_value and/or max_value; got ' ~ rule) }}
            {%- endif -%}
            {%- set broken = '(' ~ bounds | join(' or ') ~ ') is true' -%}
            {%- set text = rule.column ~ ' ' ~ words | join(' and ') -%}
        {%- endif -%}
        {%- do checks.append({
            'broken': broken,
            'text': ' '.join(text.split()) | replace("'", "''")
        }) -%}
    {%- endfor %}

    with broken_rows as (
        select
            {%- for check in checks %}
                count(case when {{ check.broken }} then 1 end) as rule_{{ loop.index }}
                {{- "," if not loop.last }}
            {%- endfor %}
        from {{ model }}
    )

    {%- for check in checks %}
        select
            '{{ check.text }}' as broken_rule,
            rule_{{ loop.index }} as failing_rows
        from broken_rows
        where rule_{{ loop.index }} > 0
        {{ "union all" if not loop.last }}
    {%- endfor %}

{% endtest %}
