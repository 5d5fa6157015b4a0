-- Emails are compared by a key (issue 13): the address in Unicode's composed form, fully
-- case-folded, so `ΣΟΦΊΑΣ@x.gr` and `σοφίας@x.gr`, or `école` composed and decomposed, are
-- one account. PostgreSQL cannot compute it (lower() is the collation's lowercasing, which
-- is not case folding and knows nothing of normalisation), so the server computes it in
-- Rust: on every write, and, for rows that have none, at every start and in housekeeping
-- (Store::key_emails, one instance at a time under a table lock).
--
-- A null key means "not computed yet": rows stored before this migration, and rows written
-- by an instance of the previous release during a rolling deploy. Such a row keeps exactly
-- the rules it had before: the lower(email) index below still holds for every row, and
-- login still finds it by lower(email). A later release, once no instance of this one's
-- predecessor can run, drops that index and this trigger and makes the key not null.
alter table users add column email_key text;

create unique index users_email_key_key on users (email_key);

-- An instance of the previous release that changes an email leaves the old key behind; it
-- is dropped here, to be computed again. This release sets chirpy.email_key_written in the
-- transaction in which it writes the key itself.
create function users_forget_stale_email_key() returns trigger language plpgsql as $$
begin
    if new.email is distinct from old.email
       and current_setting('chirpy.email_key_written', true) is distinct from 'on' then
        new.email_key := null;
    end if;
    return new;
end
$$;

create trigger users_forget_stale_email_key before update of email on users
    for each row execute function users_forget_stale_email_key();
