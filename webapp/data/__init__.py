"""The data layer: every statement the app runs, by responsibility.

- keyset: the paging engine (keyset pages, capped counts)
- search: the search plans (substring search on each database)
- lists: each resource's list (its columns, filters, search and sorts), built on those two
- reads: what the screens read (one record, choices, history, trash)
- writes: single-record changes (create, versioned change, trash, restore, revert, purge)
- bulk: changes to many records at once (bulk trash, bulk set of a reference)
- imports: the CSV import's lookups and writes
"""
