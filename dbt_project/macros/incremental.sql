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


{#- ---------------------------------------------------------------------------------------
    The marts (DESIGN.md: incremental recompute; orchestration/lib/publish.py: blue/green).
    Every incremental mart stamps the rows it writes with `run_stamp()`, the intermediate
    layer's highest stamp, and recomputes what the intermediate rows stamped above its own
    highest stamp touch: events, sessions, contacts, people, or days. A mart in the build
    schema the last publish left behind is one refresh behind; its stamps make it catch up
    on both refreshes at once.
---------------------------------------------------------------------------------------- -#}

{% macro run_stamp() -%}
    (select max(stamped.refreshed_load_id) from {{ ref('int_events__modelled') }} as stamped)
{%- endmacro %}


{#- Registers, whatever branch a model's SQL takes, the models the touched sets below read
    (dbt finds a model's dependencies in what its SQL renders when parsed, as a full build). -#}
{% macro depends_on_changes() -%}
    -- depends_on: {{ ref('int_events__modelled') }} {{ ref('int_web_events__sessionised') }}
    -- {{ ref('int_conversations') }} {{ ref('int_whatsapp_messages') }}
    -- {{ ref('int_whatsapp_waits') }}
{%- endmacro %}


{#- `condition` in an incremental run, true in a full build. -#}
{% macro when_incremental(condition) -%}
    {%- if is_incremental() -%}{{ condition }}{%- else -%}true{%- endif -%}
{%- endmacro %}


{#- Events whose row (or session) the intermediate layer rewrote since this mart's run. -#}
{% macro changed_events() -%}
    select changed.event_id
    from {{ ref('int_events__modelled') }} as changed
    where {{ changed_since_last_run('changed') }}
    union
    select changed.event_id
    from {{ ref('int_web_events__sessionised') }} as changed
    where {{ changed_since_last_run('changed') }}
{%- endmacro %}


{#- WhatsApp contacts with an event, message, conversation or wait rewritten since this
    mart's run: all their rows are recomputed. -#}
{% macro touched_contacts() -%}
    select changed.contact_key
    from {{ ref('int_events__modelled') }} as changed
    where changed.contact_key is not null and {{ changed_since_last_run('changed') }}
    {%- for model in ['int_conversations', 'int_whatsapp_messages', 'int_whatsapp_waits'] %}
        union
        select changed.contact_key
        from {{ ref(model) }} as changed
        where {{ changed_since_last_run('changed') }}
    {%- endfor %}
{%- endmacro %}


{#- The people (user_key) whose events were rewritten since this mart's run, under their
    key now and every key they had before (a new identify moves events to a person). -#}
{% macro touched_people() -%}
    select changed.user_key
    from {{ ref('int_events__modelled') }} as changed
    where changed.user_key is not null and {{ changed_since_last_run('changed') }}
    union
    select earlier.user_key
    from {{ ref('int_events__modelled') }} as changed
    cross join lateral jsonb_array_elements_text(changed.previous_user_keys)
        as earlier (user_key)
    where {{ changed_since_last_run('changed') }}
{%- endmacro %}


{#- The days (reporting time zone) whose figures may have changed since this mart's run
    (int_changed_days logs them for every refresh). -#}
{% macro changed_days() -%}
    select changed.activity_date
    from {{ ref('int_changed_days') }} as changed
    where {{ changed_since_last_run('changed') }}
{%- endmacro %}


{#- `date_expression` is a changed day; with `timestamp_column` (the timestamp the date is
    taken from) also a range on it, which an index can serve. -#}
{% macro on_changed_days(date_expression, timestamp_column=none) -%}
    {%- if is_incremental() -%}
        {{ date_expression }} in ({{ changed_days() }})
        {%- if timestamp_column %}
            and {{ timestamp_column }} >= (
                select (min(first_day.activity_date)::timestamp - interval '1 day')
                    at time zone {{ reporting_tz() }}
                from ({{ changed_days() }}) as first_day
            )
        {%- endif -%}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#- A daily mart: the rows of every changed day are replaced, and a changed day with no
    rows any more loses its old ones (pre-hook). `date_column` is the mart's day. -#}
{% macro daily_mart(date_column, indexes=[]) -%}
    {{ config(
        materialized='incremental',
        unique_key=date_column,
        incremental_strategy='delete+insert',
        indexes=[{'columns': [date_column]}] + indexes,
        pre_hook=(
            "{% if is_incremental() %}delete from {{ this }} where " ~ date_column
            ~ " in ({{ changed_days() }}){% endif %}"
        ),
    ) }}
    -- depends_on: {{ ref('int_changed_days') }}
{%- endmacro %}
