-- DEV-ONLY users and purchases for running the shop locally against the Stream emulator (README.md).
-- Their passwords are public in this file: never apply it to a deployed database.
--   alice@example.test / alice-dev-only   bought Launch keynote (ready) and Product tour (prepared on first click)
--   bob@example.test   / bob-dev-only     bought Town hall (still processing for its first 20 s)
INSERT INTO users (id, email, password_hash) VALUES
  ('alice', 'alice@example.test', 'pbkdf2-sha256$100000$cwW1Ye6kxE4DdaVI7dxtjA==$8J4GQs6Ww9KVvsGJWO6lOf14cL+yFSgo+pX3NfdUo24='),
  ('bob', 'bob@example.test', 'pbkdf2-sha256$100000$p4Ia1y9e5ljWGvUBJ/bDNQ==$y29mZu96wbAgVbpZsvXbxLrU4Iy5Oklx88WHjnEbk6A=');

INSERT INTO purchases (user_id, video_uid, title, purchased_at) VALUES
  ('alice', 'c0ffee00000000000000000000000001', 'Launch keynote', 0),
  ('alice', 'c0ffee00000000000000000000000002', 'Product tour', 0),
  ('bob', 'c0ffee00000000000000000000000004', 'Town hall', 0);
