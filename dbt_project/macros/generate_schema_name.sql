{#
    Models land in the schema their folder names (staging, intermediate, marts, marts_pii),
    not in "<target schema>_<custom schema>": the schema names are part of the contract.

    Write-audit-publish: the schemas BI tools read (marts, marts_pii) are built as
    "<schema>_build"; the refresh's publish step swaps them in once every check passed
    (orchestration/lib/publish.py). `--vars '{build_suffix: ""}'` addresses the published
    schemas directly (dbt docs does, to describe what BI tools see).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif custom_schema_name | trim in ('marts', 'marts_pii') -%}
        {{ custom_schema_name | trim }}{{ var('build_suffix', '_build') }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
