{#
    Combining several aggregates of the same grain (for example agent x day) that each may
    lack some keys: `keys_of(relations, keys)` is the set of keys present in any of them,
    and `left_join_on_keys(base, relations, keys)` joins each relation to that set.
#}
{% macro keys_of(relations, keys) -%}
    {%- for relation in relations %}
    select {{ keys | join(', ') }} from {{ relation }}
    {{- '\n    union' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro left_join_on_keys(base, relations, keys) -%}
    {%- for relation in relations %}
    left join {{ relation }}
        on
        {%- for key in keys %}
            {{ 'and ' if not loop.first }}{{ base }}.{{ key }} = {{ relation }}.{{ key }}
        {%- endfor %}
    {%- endfor %}
{%- endmacro %}
