{#
    Models land in the schema their folder names (staging, intermediate, marts, marts_pii),
    not in "<target schema>_<custom schema>": the schema names are part of the contract.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
