{#
    Helpers of the incremental models (DESIGN.md: recompute touched entities). Every
    incremental model stamps the rows it writes with `refreshed_load_id`, the highest
    load_id its run modelled; a model's next run takes the upstream rows stamped above its
    own highest stamp.
#}

{% macro changed_since_last_run(qualifier) -%}
    {{ qualifier }}.refreshed_load_id > {{ last_run_stamp() }}
{%- endmacro %}


{#- This model's highest stamp, read when the model is compiled (before its pre-hook runs)
    and written in as a literal: with a subquery the planner guessed a third of the table
    "changed" and read all of it by a hash join, where an index finds the few rows (0.43 s
    against 0.01 s per model at 1 M events, ten times more at 10 M). -#}
{% macro last_run_stamp(column='refreshed_load_id') -%}
    {#- (a unit test's `this` is a fixture CTE: no table to read before the query runs) #}
    {%- if execute and is_incremental() and not (this | string).startswith('__dbt__cte__') -%}
        {{ run_query(
            'select coalesce(max(' ~ column ~ '), 0) from ' ~ this
        ).columns[0].values()[0] }}
    {%- else -%}
        (select coalesce(max(previous_run.{{ column }}), 0) from {{ this }} as previous_run)
    {%- endif -%}
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
        {#- `= any(array(...))`, not `in (select ...)`: the planner looks each key up in
            the column's index instead of hashing the whole table to join the scope -#}
        {{ column }} = any(array(select {{ scope }}.{{ key }} from {{ scope }}))
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
    (
        -- the highest stamp first: an index scan, not an aggregate over every event
        select stamped.refreshed_load_id from {{ ref('int_events__modelled') }} as stamped
        order by stamped.refreshed_load_id desc limit 1
    )
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
{% macro changed_days(restamped_in=none) -%}
    select changed.activity_date
    from {{ ref('int_changed_days') }} as changed
    where {{ changed_since_last_run('changed') }}
    {%- if restamped_in %}
        union
        {{ restamped_days(restamped_in) }}
    {%- endif %}
{%- endmacro %}


{#- The days of the rows of mart `model` (its `activity_date`) written since this mart's
    run: with changed_days(), the days of a mart aggregated from one whose post-hook also
    rewrites rows of other days (user_activity_daily's mend_previous_active_days). -#}
{% macro restamped_days(model) -%}
    select restamped.activity_date
    from {{ ref(model) }} as restamped
    where {{ changed_since_last_run('restamped') }}
{%- endmacro %}


{#- `date_expression` is a changed day; with `timestamp_column` (the timestamp the date is
    taken from) the same days as ranges of it, which its index serves: one range for each
    run of consecutive days, so that the usual case (today, or a few days back to today) is
    a single range the planner reads through the index in table order (an OR of ranges is
    a bitmap scan it prices as scattered and replaces by reading the whole table). The
    days are read when the model is compiled, before its pre-hook deletes them, and
    written in as literals: the planner then sees how few they are (a subquery left it
    guessing, and a single lower bound read every day since the oldest changed one). -#}
{% macro on_changed_days(date_expression, timestamp_column=none, restamped_in=none) -%}
    {%- if is_incremental() and execute and not (this | string).startswith('__dbt__cte__') -%}
        {%- set days = run_query(
            'select distinct activity_date from (' ~ changed_days(restamped_in) ~ ') as changed'
            ~ ' order by activity_date'
        ).columns[0].values() -%}
        {%- if days | length == 0 -%}
            false
        {%- else -%}
            {{ date_expression }} in (
                {%- for day in days %}date '{{ day }}'{{ ", " if not loop.last }}{% endfor -%}
            )
            {%- if timestamp_column %}
                {#- runs of consecutive days: [first, last] #}
                {%- set runs = [] -%}
                {%- for day in days -%}
                    {%- if runs and (day - runs[-1][1]).days == 1 -%}
                        {%- do runs[-1].pop() -%}
                        {%- do runs[-1].append(day) -%}
                    {%- else -%}
                        {%- do runs.append([day, day]) -%}
                    {%- endif -%}
                {%- endfor %}
                and (
                    {%- for first, last in runs %}
                        {{ "or " if not loop.first }}({{ timestamp_column }} >= timestamp '{{ first }}'
                            at time zone {{ reporting_tz() }}
                        and {{ timestamp_column }} < (date '{{ last }}' + 1)::timestamp
                            at time zone {{ reporting_tz() }})
                    {%- endfor %}
                )
            {%- endif -%}
        {%- endif -%}
    {%- elif is_incremental() -%}
        {{ date_expression }} in ({{ changed_days(restamped_in) }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{#- A daily mart: the rows of every changed day are replaced, and a changed day with no
    rows any more loses its old ones (pre-hook). `date_column` is the mart's day;
    `pre_hooks` run before the changed days are deleted, `post_hooks` after the insert;
    `restamped_in` (a mart's name) adds the days of its rows written since this mart's run
    to the changed ones (restamped_days). -#}
{% macro daily_mart(date_column, indexes=[], pre_hooks=[], post_hooks=[], restamped_in=none) -%}
    {{ config(
        materialized='incremental',
        unique_key=date_column,
        incremental_strategy='delete+insert',
        indexes=[{'columns': [date_column]}] + indexes,
        pre_hook=pre_hooks + [
            "{% if is_incremental() %}delete from {{ this }} where " ~ date_column
            ~ " in ({{ changed_days(" ~ ("'" ~ restamped_in ~ "'" if restamped_in else "")
            ~ ") }}){% endif %}"
        ],
        post_hook=post_hooks,
    ) }}
    -- depends_on: {{ ref('int_changed_days') }}
{%- endmacro %}


{#- Pre-hook: the people touched_people() returns, kept until the transaction ends in
    temporary table `name` (a post-hook of the same run reads them after the insert, when
    this model's highest stamp is already the new one). -#}
{% macro remember_touched_people(name) -%}
    {%- if is_incremental() -%}
        create temporary table {{ name }} on commit drop as
        select distinct touched.user_key from ({{ touched_people() }}) as touched
    {%- endif -%}
{%- endmacro %}


{#- The previous active days of each of `alias`'s rows (activity_date, channel, user_key)
    among the rows it holds: on the row's channel, and the day of the person's previous row
    in (activity_date, channel) order (user_activity_daily; the model's full build and
    mend_previous_active_days). -#}
{% macro previous_active_days(alias) -%}
    lag({{ alias }}.activity_date) over (
        partition by {{ alias }}.channel, {{ alias }}.user_key
        order by {{ alias }}.activity_date
    ) as previous_active_date,
    lag({{ alias }}.activity_date) over (
        partition by {{ alias }}.user_key
        order by {{ alias }}.activity_date, {{ alias }}.channel
    ) as previous_active_date_any_channel
{%- endmacro %}


{#- Post-hook of user_activity_daily: each row of the people remembered in `touched`
    (remember_touched_people) gets its previous active days again from all of the
    person's rows, so that a day a late event added, or a new identify moved to another
    person, is seen by the person's later days too. Only rows whose days change are
    written, stamped with this run's stamp. -#}
{% macro mend_previous_active_days(touched) -%}
    {%- if is_incremental() -%}
        update {{ this }} as target
        set
            previous_active_date = mended.previous_active_date,
            previous_active_date_any_channel = mended.previous_active_date_any_channel,
            refreshed_load_id = {{ run_stamp() }}
        from (
            select
                person_days.activity_date,
                person_days.channel,
                person_days.user_key,
                {{ previous_active_days('person_days') }}
            from {{ this }} as person_days
            where person_days.user_key = any(array(select user_key from {{ touched }}))
        ) as mended
        where
            target.activity_date = mended.activity_date
            and target.channel = mended.channel
            and target.user_key = mended.user_key
            and (
                target.previous_active_date is distinct from mended.previous_active_date
                or target.previous_active_date_any_channel
                is distinct from mended.previous_active_date_any_channel
            )
    {%- endif -%}
{%- endmacro %}


{#- A model recomputed entity by entity: before an incremental run, the rows whose
    `scope_column` is in the set the macro `touched` returns are deleted (pre-hook), and
    the model's SQL rebuilds them from all their upstream rows; an entity that no longer
    exists stays deleted. `key` is the row's key (unique_key); `post_hooks` run after the
    insert. The set is an array, as in in_scope: with `in (...)` the planner guessed millions of people (a hundred keys per
    `previous_user_keys` element) and read all of dim_users in key order, 7.3 s at 10 M
    events for 9 k people. -#}
{% macro entity_mart(key, scope_column, touched, indexes, post_hooks=[]) -%}
    {{ config(
        materialized='incremental',
        unique_key=key,
        incremental_strategy='delete+insert',
        indexes=indexes + [{'columns': ['refreshed_load_id']}],
        pre_hook=(
            "{% if is_incremental() %}delete from {{ this }} where " ~ scope_column
            ~ " = any(array({{ " ~ touched ~ "() }})){% endif %}"
        ),
        post_hook=post_hooks,
    ) }}
{%- endmacro %}


{#- Recomputed by web session: touched_web_sessions(). -#}
{% macro session_mart(indexes) -%}
    {{ entity_mart('session_id', 'session_id', 'touched_web_sessions', indexes) }}
{%- endmacro %}


{#- Recomputed by WhatsApp contact: touched_contacts(). -#}
{% macro contact_mart(key, indexes) -%}
    {{ entity_mart(key, 'contact_key', 'touched_contacts', indexes) }}
{%- endmacro %}


{#- A full build writes the fact in the order of its day (`order by`, nothing in an
    incremental run, whose rows are appended after the table's last page anyway). The
    pages of one day are then next to each other: an incremental run's recompute of the
    changed days, and a dashboard's 7-day range, read a day's pages, not a few rows on
    nearly every page of the table (a full build written in the order of its sessions left
    a day's rows over all of it: correlation of the day with the row order 0.04). -#}
{% macro in_day_order(date_column) -%}
    {%- if not is_incremental() %}
order by {{ date_column }}
    {%- endif -%}
{%- endmacro %}


{#- A partial index on the rows `condition` picks out: for the checks that count a rare
    kind of row (events too late for an incremental refresh), read from it instead of the
    whole table. dbt's `indexes` config has no `where`; a post-hook creates it when the
    table has none (a full build's new table), under a name PostgreSQL chooses, since the
    full build's old table, renamed, still holds the previous one until it is dropped. -#}
{% macro partial_index(columns, condition) -%}
    do $partial_index$
    begin
        if not exists (
            select from pg_catalog.pg_indexes
            where
                schemaname = '{{ this.schema }}'
                and tablename = '{{ this.identifier }}'
                and indexdef like '% WHERE {{ condition }}'
        ) then
            create index on {{ this }} ({{ columns | join(', ') }}) where {{ condition }};
        end if;
    end
    $partial_index$
{%- endmacro %}
