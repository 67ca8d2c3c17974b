create table if not exists todos (
  id bigint generated always as identity primary key,
  title text not null,
  done boolean not null default false
);
create user todo_app;
grant rds_iam to todo_app;
grant select, insert, update on todos to todo_app;
