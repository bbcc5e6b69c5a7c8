{#
    Helpers of the incremental models (DESIGN.md: recompute touched entities). Every
    incremental model stamps the rows it writes with `refreshed_load_id`, the highest
    load_id its run modelled; a model's next run takes the upstream rows stamped above its
    own highest stamp.
#}

{% macro changed_since_last_run(qualifier) -%}
    {{ qualifier }}.refreshed_load_id > (
        select coalesce(max(previous_run.refreshed_load_id), 0) from {{ this }} as previous_run
    )
{%- endmacro %}


{#- The sessions int_web_events__sessionised rewrote since int_web_sessions last ran: their
    ids now and every id their events had before. -#}
{% macro touched_web_sessions() -%}
    select changed.session_id
    from {{ ref('int_web_events__sessionised') }} as changed
    where {{ changed_since_last_run('changed') }}
    union
    select previous_ids.session_id
    from {{ ref('int_web_events__sessionised') }} as changed
    cross join lateral jsonb_array_elements_text(changed.previous_session_ids)
        as previous_ids (session_id)
    where {{ changed_since_last_run('changed') }}
{%- endmacro %}


{#- `column` is one of the keys an incremental run recomputes (`key` of CTE `scope`); always
    true in a full build. -#}
{% macro in_scope(column, scope='touched_contacts', key='contact_key') -%}
    {%- if is_incremental() -%}
        {{ column }} in (select {{ scope }}.{{ key }} from {{ scope }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
