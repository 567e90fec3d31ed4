BEGIN TRANSACTION;
CREATE TABLE "authors" (
   "id" INTEGER PRIMARY KEY,
   "name" TEXT
);
INSERT INTO "authors" VALUES(1,'Svante Cornell');
INSERT INTO "authors" VALUES(2,'Marcela Londono');
INSERT INTO "authors" VALUES(3,'Roger N. McDermott');
INSERT INTO "authors" VALUES(4,'Marcela Londoño');
CREATE TABLE "canary_checks" (
   "spider" TEXT,
   "item_key" TEXT,
   "url" TEXT,
   "checked_at" TEXT,
   "run_id" INTEGER,
   "outcome" TEXT,
   "missing" TEXT,
   "differing" TEXT,
   PRIMARY KEY ("spider", "item_key")
);
CREATE TABLE "crawl_runs" (
   "id" INTEGER PRIMARY KEY,
   "spider" TEXT,
   "mode" TEXT,
   "started_at" TEXT,
   "finished_at" TEXT,
   "finish_reason" TEXT,
   "requests" INTEGER,
   "responses_by_status" TEXT,
   "items_new" INTEGER,
   "items_updated" INTEGER,
   "items_unchanged" INTEGER,
   "items_rejected" INTEGER,
   "items_duplicate" INTEGER,
   "coverage" TEXT,
   "self_check" TEXT,
   "problems" TEXT,
   "listing_pages" INTEGER,
   "listing_entries" INTEGER,
   "canaries" TEXT
);
CREATE TABLE "duplicates" (
   "id" INTEGER PRIMARY KEY,
   "duplicate_of" INTEGER,
   "url" TEXT,
   "recorded_at" TEXT,
   "run_id" INTEGER
);
CREATE TABLE "item_runs" (
   "item_table" TEXT,
   "item_id" TEXT,
   "run_id" INTEGER,
   "change" TEXT,
   PRIMARY KEY ("item_table", "item_id")
);
INSERT INTO "item_runs" VALUES('publications','12995',1,'new');
INSERT INTO "item_runs" VALUES('publications','7315',1,'new');
INSERT INTO "item_runs" VALUES('publications','7400',1,'new');
INSERT INTO "item_runs" VALUES('staff_publications','4f34cc3a64ba',2,'new');
INSERT INTO "item_runs" VALUES('staff_publications','21eae06b628a',2,'new');
CREATE TABLE "publication_authors" (
   "publication_id" INTEGER REFERENCES "publications"("id"),
   "position" INTEGER,
   "author_id" INTEGER REFERENCES "authors"("id"),
   PRIMARY KEY ("publication_id", "position")
);
INSERT INTO "publication_authors" VALUES(12995,0,1);
INSERT INTO "publication_authors" VALUES(7315,0,2);
INSERT INTO "publication_authors" VALUES(7315,1,3);
INSERT INTO "publication_authors" VALUES(7400,0,4);
CREATE TABLE "publication_versions" (
   "id" INTEGER,
   "content_hash" TEXT,
   "body" TEXT,
   "fetched_at" TEXT,
   PRIMARY KEY ("id", "content_hash")
);
CREATE TABLE "publications" (
   "id" INTEGER PRIMARY KEY,
   "url" TEXT,
   "section" TEXT,
   "title" TEXT,
   "authors" TEXT,
   "published" TEXT,
   "issue_date" TEXT,
   "byline" TEXT,
   "body" TEXT,
   "hits" INTEGER,
   "modified" TEXT,
   "tags" TEXT,
   "word_count" INTEGER,
   "content_hash" TEXT,
   "fetched_at" TEXT
);
INSERT INTO "publications" VALUES(7315,'https://www.cacianalyst.org/publications/field-reports/item/7315-x.html','Field Reports','TITLE 7315','["Marcela Londono", "Roger N. McDermott"]','2004-02-11','2004-02-11','By Fariz Ismailzade (2/11/2004 issue of the CACI Analyst)','Another body.',10,NULL,'["Georgia"]',2,'bde5c0cdad8854d6599aacc08c7c6f653a207e0eb082fabe211370dadb26846d','2026-01-01T00:00:00Z');
INSERT INTO "publications" VALUES(7400,'https://www.cacianalyst.org/publications/field-reports/item/7400-x.html','Field Reports','TITLE 7400','["Marcela Londoño"]','2021-03-02','2004-02-11','By Fariz Ismailzade (2/11/2004 issue of the CACI Analyst)','Third body.',10,NULL,'[]',2,'66662e5428c2bc1a71a4cebfd9c12dbb99b54c7c78d4b7b153af3f5c1e3daac9','2026-01-01T00:00:00Z');
INSERT INTO "publications" VALUES(12995,'https://www.cacianalyst.org/publications/field-reports/item/12995-x.html','Field Reports','TITLE 12995','["Svante Cornell"]','2010-04-21','2004-02-11','By Fariz Ismailzade (2/11/2004 issue of the CACI Analyst)','Kyrgyzstan turmoil.',10,NULL,'[]',2,'7a7a509adc17d586c0938b156b14bf2c7013c335b6eb14897c26a5cbc8326384','2026-01-01T00:00:00Z');
PRAGMA writable_schema=ON;
INSERT INTO sqlite_master(type,name,tbl_name,rootpage,sql)VALUES('table','publications_fts','publications_fts',0,'CREATE VIRTUAL TABLE "publications_fts" USING FTS5 (
    "title", "body",
    content="publications"
)');
INSERT INTO "publications_fts" VALUES('TITLE 7315','Another body.');
INSERT INTO "publications_fts" VALUES('TITLE 7400','Third body.');
INSERT INTO "publications_fts" VALUES('TITLE 12995','Kyrgyzstan turmoil.');
CREATE TABLE 'publications_fts_config'(k PRIMARY KEY, v) WITHOUT ROWID;
INSERT INTO "publications_fts_config" VALUES('version',4);
CREATE TABLE 'publications_fts_data'(id INTEGER PRIMARY KEY, block BLOB);
INSERT INTO "publications_fts_data" VALUES(1,X'030606');
INSERT INTO "publications_fts_data" VALUES(10,X'000000000103030003010101020101030101');
INSERT INTO "publications_fts_data" VALUES(137438953473,X'0000003A06303132393935E5430203010A6B797267797A7374616EE5430601010201057469746C65E5430202020675726D6F696CE54306010103040B120B');
INSERT INTO "publications_fts_data" VALUES(274877906945,X'00000034053037333135B91302030107616E6F74686572B913060101020104626F6479B9130601010301057469746C65B9130202040A0F0C');
INSERT INTO "publications_fts_data" VALUES(412316860417,X'00000031053037343030B96802030104626F6479B9680601010301057468697264B96806010102020469746C65B9680202040A0C0D');
CREATE TABLE 'publications_fts_docsize'(id INTEGER PRIMARY KEY, sz BLOB);
INSERT INTO "publications_fts_docsize" VALUES(7315,X'0202');
INSERT INTO "publications_fts_docsize" VALUES(7400,X'0202');
INSERT INTO "publications_fts_docsize" VALUES(12995,X'0202');
CREATE TABLE 'publications_fts_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;
INSERT INTO "publications_fts_idx" VALUES(1,X'',2);
INSERT INTO "publications_fts_idx" VALUES(2,X'',2);
INSERT INTO "publications_fts_idx" VALUES(3,X'',2);
CREATE TABLE "rejects" (
   "spider" TEXT,
   "url" TEXT,
   "reason" TEXT,
   "raw" TEXT,
   "status" INTEGER,
   "fetched_at" TEXT,
   "raw_key" TEXT,
   "attempts" INTEGER,
   "next_attempt_at" TEXT,
   PRIMARY KEY ("spider", "url", "reason", "raw_key")
);
CREATE TABLE "sites" (
   "setting" TEXT PRIMARY KEY,
   "base_url" TEXT,
   "recorded_at" TEXT
);
CREATE TABLE "staff_publication_versions" (
   "id" TEXT,
   "row" TEXT,
   "fetched_at" TEXT,
   PRIMARY KEY ("id", "fetched_at")
);
CREATE TABLE "staff_publications" (
   "id" TEXT PRIMARY KEY,
   "kind" TEXT,
   "title" TEXT,
   "authors" TEXT,
   "roles" TEXT,
   "venue" TEXT,
   "date" TEXT,
   "url" TEXT,
   "summary" TEXT,
   "sources" TEXT,
   "fetched_at" TEXT
);
INSERT INTO "staff_publications" VALUES('4f34cc3a64ba','Book','Central Asia after the Pandemic','["Svante E. Cornell", "S. Frederick Starr"]','{"Svante E. Cornell": "editor"}',NULL,'2024-07',NULL,'A study of the region.','["https://x/"]','2026-01-01T00:00:00Z');
INSERT INTO "staff_publications" VALUES('21eae06b628a',NULL,'Greater Central Asia','["Svante E. Cornell"]','{}',NULL,'2023',NULL,NULL,'["https://x/"]','2026-01-01T00:00:00Z');
CREATE TABLE "staff_ranks" (
   "id" TEXT PRIMARY KEY,
   "rank" INTEGER
);
INSERT INTO "staff_ranks" VALUES('4f34cc3a64ba',2);
INSERT INTO "staff_ranks" VALUES('21eae06b628a',0);
CREATE INDEX "idx_publications_content_hash"
    ON "publications" ("content_hash");
CREATE UNIQUE INDEX "idx_authors_name"
    ON "authors" ("name");
CREATE TRIGGER "publications_ai" AFTER INSERT ON "publications" BEGIN
  INSERT INTO "publications_fts" (rowid, "title", "body") VALUES (new.rowid, new."title", new."body");
END;
CREATE TRIGGER "publications_ad" AFTER DELETE ON "publications" BEGIN
  INSERT INTO "publications_fts" ("publications_fts", rowid, "title", "body") VALUES('delete', old.rowid, old."title", old."body");
END;
CREATE TRIGGER "publications_au" AFTER UPDATE ON "publications" BEGIN
  INSERT INTO "publications_fts" ("publications_fts", rowid, "title", "body") VALUES('delete', old.rowid, old."title", old."body");
  INSERT INTO "publications_fts" (rowid, "title", "body") VALUES (new.rowid, new."title", new."body");
END;
PRAGMA writable_schema=OFF;
COMMIT;
