{#-
    Training of the probabilistic matching model (identity_match_parameters), the way
    Splink trains one:
    - u from random record pairs (almost all of them are two different people);
    - m by expectation-maximisation over the blocked pairs, per blocking rule (a pair
      serves each rule that paired it). Within a rule's pairs the rule's own fields agree
      by construction, so they say nothing there: each rule's likelihood leaves them
      out, and a field's m is pooled from the rules it is not part of. Each rule has
      its own share of matches;
    - the prior, the chance that two records picked at random are one person: the
      expected matches over all rules divided by all record pairs.
    Runs as run_query calls into session work tables (like the rounds of connected
    components) and returns the table that holds (field_name, level, level_label,
    m_probability, u_probability) with the run's prior_match_probability,
    em_iterations, pairs_trained and u_pairs_sampled.
-#}
{% macro train_match_parameters(matching, pairs_relation, records_relation, work_name) %}
    {%- set fields = matching.fields.values() | list -%}
    {%- set patterns = onefold.cc_work_table(work_name, 'patterns') -%}
    {%- set pattern_levels = onefold.cc_work_table(work_name, 'pattern_levels') -%}
    {%- set levels = onefold.cc_work_table(work_name, 'levels') -%}
    {%- set u_table = onefold.cc_work_table(work_name, 'u') -%}
    {%- set m_table = onefold.cc_work_table(work_name, 'm') -%}
    {%- set m_next = onefold.cc_work_table(work_name, 'm_next') -%}
    {%- set prior = onefold.cc_work_table(work_name, 'prior') -%}
    {%- set posterior = onefold.cc_work_table(work_name, 'posterior') -%}
    {%- set change_table = onefold.cc_work_table(work_name, 'change') -%}
    {%- set trained = onefold.cc_work_table(work_name, 'trained') -%}
    {%- set float = onefold.type_double() -%}
    {%- set level_columns = [] -%}
    {%- for field in fields -%}
        {%- do level_columns.append(field.name ~ '_level') -%}
    {%- endfor -%}

    {#- Every (field, level) the model has, with its label and first guess of m: the
        declared levels halve from 0.8 down, 'else' takes what is left. -#}
    {%- set level_rows = [] -%}
    {%- for field in fields -%}
        {%- set guesses = [] -%}
        {%- for level in field.levels -%}
            {%- do guesses.append(0.8 / (2 ** loop.index0)) -%}
        {%- endfor -%}
        {%- set total = guesses | sum -%}
        {%- do level_rows.append("select '" ~ field.name ~ "' as field_name, 0 as level, 'else' as level_label, "
            ~ "cast(0.05 as " ~ float ~ ") as initial_m") -%}
        {%- for level in field.levels -%}
            {%- do level_rows.append("select '" ~ field.name ~ "', " ~ loop.index ~ ", '" ~ level.label ~ "', cast("
                ~ (0.95 * guesses[loop.index0] / total) ~ " as " ~ float ~ ")") -%}
        {%- endfor -%}
    {%- endfor -%}

    {#- u: each record against u_sample_offsets others, in an order set by its node id
        (a hash), so the pairs are random and every run draws the same ones. -#}
    {%- set offsets = [] -%}
    {%- for k in range(1, matching.u_sample_offsets + 1) -%}
        {%- do offsets.append('select ' ~ k ~ ' as draw') -%}
    {%- endfor -%}
    {%- set sample_levels = [] -%}
    {%- for field in fields -%}
        {%- do sample_levels.append("select '" ~ field.name ~ "' as field_name, "
            ~ onefold.match_level(field, 'left_records.' ~ field.name, 'right_records.' ~ field.name) ~ " as level "
            ~ "from sampled inner join numbered as left_records on sampled.left_position = left_records.position "
            ~ "inner join numbered as right_records on sampled.right_position = right_records.position") -%}
    {%- endfor -%}
    {%- set u_sql -%}
        with numbered as (
            select records.*, row_number() over (order by record_node_id) - 1 as position,
                count(*) over () as record_count
            from {{ records_relation }} as records
        ),
        draws as ({{ offsets | join(' union all ') }}),
        sampled as (
            select numbered.position as left_position,
                (numbered.position + 1 + (draws.draw * 7919) % greatest(numbered.record_count - 1, 1))
                    % numbered.record_count as right_position
            from numbered cross join draws
            where numbered.record_count > 1
        ),
        sample_levels as ({{ sample_levels | join(' union all ') }}),
        counted as (
            select field_name, level, count(*) as pairs
            from sample_levels where level is not null group by field_name, level
        ),
        totals as (select field_name, sum(pairs) as pairs from counted group by field_name)
        {#- Add-one smoothing: a level no sampled pair met still has a small u, never 0. -#}
        select levels.field_name, levels.level,
            cast(coalesce(counted.pairs, 0) + 1 as {{ float }})
                / (coalesce(totals.pairs, 0) + level_counts.level_count) as u_probability,
            coalesce(totals.pairs, 0) as u_pairs
        from {{ levels }} as levels
        inner join (select field_name, count(*) as level_count from {{ levels }} group by field_name) as level_counts
            on levels.field_name = level_counts.field_name
        left join counted on levels.field_name = counted.field_name and levels.level = counted.level
        left join totals on levels.field_name = totals.field_name
    {%- endset -%}

    {#- Each rule trains on every pair it blocked (a pair can serve several rules). -#}
    {%- set rule_pairs = [] -%}
    {%- for rule in matching.blocking_rules -%}
        {%- do rule_pairs.append('select ' ~ loop.index ~ ' as blocking_rule, ' ~ (level_columns | join(', ')) ~ ' from '
            ~ pairs_relation ~ ' where (blocking_rules_mask & ' ~ (2 ** loop.index0) ~ ') <> 0') -%}
    {%- endfor -%}
    {#- first_patterns: each pair once, under the first rule that paired it (for the prior). -#}
    {%- set first_patterns = onefold.cc_work_table(work_name, 'first_patterns') -%}
    {%- set first_pattern_levels = onefold.cc_work_table(work_name, 'first_pattern_levels') -%}
    {%- set setup = onefold.cc_work_schema_sql() + onefold.cc_work_table_sql(levels, level_rows | join(' union all '))
        + onefold.cc_work_table_sql(patterns, onefold.match_patterns_sql(
            '(' ~ (rule_pairs | join(' union all ')) ~ ') as rule_pairs', level_columns))
        + onefold.cc_work_table_sql(pattern_levels, onefold.match_pattern_levels_sql(matching, patterns))
        + onefold.cc_work_table_sql(first_patterns, onefold.match_patterns_sql(pairs_relation, level_columns))
        + onefold.cc_work_table_sql(first_pattern_levels, onefold.match_pattern_levels_sql(matching, first_patterns))
        + onefold.cc_work_table_sql(u_table, u_sql)
        + onefold.cc_work_table_sql(m_table, 'select field_name, level, initial_m as m_probability from ' ~ levels)
        + onefold.cc_work_table_sql(prior, 'select distinct blocking_rule, cast(0.5 as ' ~ float ~ ') as match_share from '
            ~ patterns)
        + ['select coalesce(sum(pair_count), 0) from ' ~ first_patterns] -%}
    {%- set pairs_trained = onefold.run_statements(setup).columns[0].values()[0] | int -%}

    {#- EM: the posterior match probability of every comparison pattern under the current
        m, u and share; then m per level as the matches' share of it, per field. -#}
    {%- set state = namespace(iterations=0, done=(pairs_trained == 0)) -%}
    {%- for iteration in range(1, matching.em_max_iterations + 1) if not state.done -%}
        {%- set posterior_sql = onefold.match_posterior_sql(patterns, pattern_levels, prior, m_table, u_table) -%}
        {#- m pooled over the rules a field informs; half a pair of pseudo-count per level,
            so a level no likely match showed keeps a small m rather than none. A field
            no rule informs keeps its first guess. -#}
        {%- set m_sql -%}
            with weighted as (
                select pattern_levels.field_name, pattern_levels.level,
                    sum(posterior.pair_count * posterior.match_probability) as expected_matches
                from {{ pattern_levels }} as pattern_levels
                inner join {{ posterior }} as posterior on pattern_levels.pattern_id = posterior.pattern_id
                group by pattern_levels.field_name, pattern_levels.level
            ),
            totals as (select field_name, sum(expected_matches) as expected_matches from weighted group by field_name),
            level_counts as (select field_name, count(*) as level_count from {{ levels }} group by field_name)
            select levels.field_name, levels.level,
                case
                    when totals.expected_matches is null then m.m_probability
                    else (coalesce(weighted.expected_matches, 0) + 0.5) / (totals.expected_matches + 0.5 * level_counts.level_count)
                end as m_probability
            from {{ levels }} as levels
            inner join {{ m_table }} as m on levels.field_name = m.field_name and levels.level = m.level
            inner join level_counts on levels.field_name = level_counts.field_name
            left join weighted on levels.field_name = weighted.field_name and levels.level = weighted.level
            left join totals on levels.field_name = totals.field_name
        {%- endset -%}
        {#- One round trip: the new m and share replace the old, then the largest move of m. -#}
        {%- set statements = onefold.cc_work_table_sql(posterior, posterior_sql)
            + onefold.cc_work_table_sql(m_next, m_sql)
            + onefold.cc_work_table_sql(change_table, 'select max(abs(m_next.m_probability - m.m_probability)) as change from '
                ~ m_next ~ ' as m_next inner join ' ~ m_table ~ ' as m on m_next.field_name = m.field_name '
                ~ 'and m_next.level = m.level')
            + onefold.cc_work_table_sql(prior, 'select blocking_rule, greatest(least(sum(pair_count * match_probability) '
                ~ '/ sum(pair_count), 1 - 1e-9), 1e-9) as match_share from ' ~ posterior ~ ' group by blocking_rule')
            + onefold.cc_work_table_sql(m_table, 'select * from ' ~ m_next)
            + ['select change from ' ~ change_table] -%}
        {%- set change = onefold.run_statements(statements).columns[0].values()[0] -%}
        {%- set state.iterations = iteration -%}
        {%- if change is none or change < matching.em_tolerance -%}
            {%- set state.done = true -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do log('identity_match_parameters: ' ~ pairs_trained ~ ' blocked pairs, EM ' ~ state.iterations
        ~ ' iteration(s)', info=true) -%}

    {%- set trained_sql -%}
        with record_pairs as (
            select cast(count(*) as {{ float }}) * (count(*) - 1) / 2 as record_pairs from {{ records_relation }}
        ),
        first_posterior as (
            {{ onefold.match_posterior_sql(first_patterns, first_pattern_levels, prior, m_table, u_table) }}
        ),
        overall as (
            select greatest(least(sum(first_posterior.pair_count * first_posterior.match_probability)
                / max(record_pairs.record_pairs), 1 - 1e-9), 1e-12) as prior_match_probability
            from first_posterior cross join record_pairs
        )
        select levels.field_name, levels.level, levels.level_label, m.m_probability, u.u_probability,
            overall.prior_match_probability,
            {{ state.iterations }} as em_iterations,
            {{ pairs_trained }} as pairs_trained,
            u.u_pairs as u_pairs_sampled
        from {{ levels }} as levels
        inner join {{ m_table }} as m on levels.field_name = m.field_name and levels.level = m.level
        inner join {{ u_table }} as u on levels.field_name = u.field_name and levels.level = u.level
        cross join overall
        where {{ pairs_trained }} > 0 and {{ state.iterations }} > 0
    {%- endset -%}
    {%- do onefold.run_statements(onefold.cc_work_table_sql(trained, trained_sql)) -%}
    {%- set drops = [] -%}
    {%- for table in [patterns, pattern_levels, first_patterns, first_pattern_levels, levels, u_table, m_table, m_next,
        prior, posterior, change_table] -%}
        {%- do drops.append('drop table if exists ' ~ table) -%}
    {%- endfor -%}
    {%- do onefold.run_statements(drops) -%}
    {{ return(trained) }}
{% endmacro %}


{#- Each distinct comparison pattern of `pairs` (a relation with blocking_rule and the
    level columns) per rule, numbered, with how many pairs show it. -#}
{% macro match_patterns_sql(pairs, level_columns) %}
    {%- set levels = level_columns | join(', ') -%}
    {{ return('select row_number() over (order by blocking_rule, ' ~ levels ~ ') as pattern_id, blocking_rule, '
        ~ levels ~ ', count(*) as pair_count from ' ~ pairs ~ ' group by blocking_rule, ' ~ levels) }}
{% endmacro %}


{#- The informative levels of each pattern in `patterns`: its fields that are not part
    of its blocking rule. -#}
{% macro match_pattern_levels_sql(matching, patterns) %}
    {%- set rows = [] -%}
    {%- for field in matching.fields.values() -%}
        {%- set blocking = [] -%}
        {%- for rule in matching.blocking_rules -%}
            {%- if rule | selectattr('field', 'equalto', field.name) | list -%}
                {%- do blocking.append(loop.index) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do rows.append("select pattern_id, blocking_rule, '" ~ field.name ~ "' as field_name, "
            ~ field.name ~ "_level as level from " ~ patterns ~ " where " ~ field.name ~ "_level is not null"
            ~ ((" and blocking_rule not in (" ~ (blocking | join(', ')) ~ ")") if blocking else "")) -%}
    {%- endfor -%}
    {{ return(rows | join(' union all ')) }}
{% endmacro %}


{#- Each pattern's posterior match probability under its rule's share of matches and
    the current m and u. -#}
{% macro match_posterior_sql(patterns, pattern_levels, prior, m_table, u_table) %}
    {%- set query -%}
        select patterns.pattern_id, patterns.blocking_rule, patterns.pair_count,
            1 / (1 + exp(-least(greatest(
                ln(prior.match_share / (1 - prior.match_share)) + coalesce(scores.log_ratio, 0), -60), 60)))
                as match_probability
        from {{ patterns }} as patterns
        inner join {{ prior }} as prior on patterns.blocking_rule = prior.blocking_rule
        left join (
            select pattern_levels.pattern_id, sum(ln(m.m_probability) - ln(u.u_probability)) as log_ratio
            from {{ pattern_levels }} as pattern_levels
            inner join {{ m_table }} as m
                on pattern_levels.field_name = m.field_name and pattern_levels.level = m.level
            inner join {{ u_table }} as u
                on pattern_levels.field_name = u.field_name and pattern_levels.level = u.level
            group by pattern_levels.pattern_id
        ) as scores
            on patterns.pattern_id = scores.pattern_id
    {%- endset -%}
    {{ return(query) }}
{% endmacro %}
