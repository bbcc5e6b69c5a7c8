{#
    Data tests on an incremental refresh check the rows the refresh wrote, not all history
    (DESIGN.md: a refresh costs in proportion to what arrived). A generic test on a model
    with `refreshed_load_id` (every incremental model, and a view over one marked
    `meta: {stamped_rows: true}`) reads only the rows carrying the
    highest stamp: after a full build that is every row, after an incremental one the rows
    it recomputed. Rows written earlier were tested when they were written; uniqueness
    across all rows is held by each incremental model's unique index (for the facts keyed
    by an event, on the event's day and id: the day is a function of the event, so the
    index holds the id unique too). `--full-refresh`
    tests everything. A test on a staging view (raw data, with `load_id`) reads the loads
    since the refresh before the last stamp of `int_events__identified` (since that stamp
    when it is the only one: the full build that wrote it tested all); `raw.events`' and
    `raw.event_enrichment`'s primary keys hold uniqueness across all loads. Singular tests
    and models without either column are tested whole.
#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- if config.get('where', '') -%}
        {%- do conditions.append(config.get('where')) -%}
    {%- endif -%}
    {%- if execute and not flags.FULL_REFRESH and relation.schema is not none -%}
        {%- set tested = tested_model(relation) -%}
        {%- if tested is not none and (
            tested.config.materialized == 'incremental'
            or tested.config.meta.get('stamped_rows', false)
        ) -%}
            {#- a literal, not a subquery: the planner then knows how few rows carry it #}
            {%- set stamp = last_stamp(relation) -%}
            {%- if stamp is not none -%}
                {%- do conditions.append('refreshed_load_id = ' ~ stamp) -%}
            {%- endif -%}
        {%- elif tested is not none and tested.schema == 'staging' -%}
            {#- staging reads raw: the loads since the refresh before this one's stamp #}
            {%- set modelled = adapter.get_relation(
                database=target.database, schema='intermediate',
                identifier='int_events__identified'
            ) -%}
            {%- if modelled is not none -%}
                {#- the stamp before the last (when the last is the only one, the full
                    build that wrote it tested every load up to it) #}
                {%- set since = run_query(
                    'select coalesce((select max(refreshed_load_id) from ' ~ modelled
                    ~ ' where refreshed_load_id < (select max(refreshed_load_id) from '
                    ~ modelled ~ ')), (select max(refreshed_load_id) from ' ~ modelled
                    ~ '), 0)'
                ).columns[0].values()[0] -%}
                {%- do conditions.append('load_id > ' ~ since) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{#
    The model a test reads through `relation`: one of the nodes the test depends on, found
    in dbt's graph rather than asked of the database (a catalog query and its parsing per
    test were about a fifth of dbt's time on an incremental refresh). None for a source.
#}
{% macro tested_model(relation) -%}
    {%- for unique_id in model.depends_on.nodes -%}
        {%- set node = graph.nodes.get(unique_id) -%}
        {%- if node is not none and node.resource_type == 'model'
            and node.schema == relation.schema
            and (node.alias or node.name) == relation.identifier -%}
            {%- do return(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(none) -%}
{%- endmacro %}


{#
    Post-hook of every table model: fresh statistics for the models downstream in the same
    build (a table dbt just created has none until autovacuum gets to it; a model planned
    blind was seen 35x slower). An incremental run that changed little since the last
    ANALYZE (under a tenth of the rows, autovacuum's own rule) skips it: on a large mart,
    ANALYZE costs more than the run's whole change.
#}
{% macro analyze_when_needed() -%}
    do $$
    begin
        if coalesce((
            select
                stats.n_mod_since_analyze > greatest(tables.reltuples, 0) * 0.1
                or (stats.last_analyze is null and stats.last_autoanalyze is null)
            from pg_class as tables
            left join pg_stat_user_tables as stats on tables.oid = stats.relid
            where tables.oid = '{{ this }}'::regclass
        ), true) then
            execute 'analyze {{ this }}';
        end if;
    end
    $$
{%- endmacro %}


{#
    In a singular test: the condition keeping the rows of `relation` (read as `alias`) that
    the last build wrote, those carrying its highest stamp: every row after a full build,
    the recomputed ones after an incremental one. `--full-refresh` keeps every row. A
    singular test reconciles two models on the keys either one wrote.

    The stamp is read when the test is compiled and written in as a literal, as for the
    generic tests: the planner then estimates the rows from the column's statistics (a
    stamp newer than them: a few rows, looked up through the indexes; a full build's
    stamp: all rows, hashed). With a subquery it guessed hundreds of thousands for an
    hour's 30 k and hashed all of fct_events to check them (20.8 s at 10 M events).
#}
{% macro last_written(relation, alias) -%}
    {%- if flags.FULL_REFRESH -%}
        true
    {%- elif execute and adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) is not none -%}
        {#- (compiled before the model exists, e.g. `dbt compile` of a new warehouse: the
            subquery below) #}
        {%- set stamp = last_stamp(relation) -%}
        {#- an empty model: no row was written #}
        {{ alias }}.refreshed_load_id = {{ stamp if stamp is not none else 'null' }}
    {%- else -%}
        {{ alias }}.refreshed_load_id = (
            select max(stamped.refreshed_load_id) from {{ relation }} as stamped
        )
    {%- endif -%}
{%- endmacro %}

{#- The highest `refreshed_load_id` of a relation, read now (none when it has no rows). #}
{% macro last_stamp(relation) -%}
    {%- do return(run_query(
        'select max(refreshed_load_id) from ' ~ relation
    ).columns[0].values()[0]) -%}
{%- endmacro %}
