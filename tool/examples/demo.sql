.load ./dist/upsert
.headers on
.mode box
CREATE TABLE posts(id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT);
CREATE VIRTUAL TABLE temp.posts_up USING upsert_into(posts);
.print "-- INSERT INTO posts_up VALUES (1,'Hello','first'), (2,'World','second');"
INSERT INTO posts_up VALUES (1,'Hello','first'), (2,'World','second');
SELECT * FROM posts;
.print "-- INSERT INTO posts_up VALUES (1,'Hello again','edited'), (3,'New','third');"
INSERT INTO posts_up VALUES (1,'Hello again','edited'), (3,'New','third');
SELECT * FROM posts;
