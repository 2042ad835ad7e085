"""Content staff's tools: check an edit, translate, retrain safely, learn from conversations.

- `validate`: every rule a content edit can break (`make validate`), as `file:line: problem`;
  the rules live in `answer_rules`, `catalog_rules`, `nlu_rules`, `store_rules`, `rasa_check`.
- `translations`: answers out to gettext PO files for translators and back
  (`make translations-export`, `make translations-import`), with `tracking` recording which
  English each translation was made from, and `yaml_edit` changing only the lines that change.
- `retrain` and `registry`: train a candidate, compare it with the model in service, promote
  it or refuse it, roll back (`make retrain`, `make rollback`).
- `review`: what clinicians must sign (the medical answers not approved yet) and badly
  handled messages from the tracker store, as YAML to edit into examples (`make review`);
  `signoff` records a review state (`make sign-off`: `approve`, `mark_content_checked`,
  `mark_pending`) in the answer files, on the schema of `bot.core.answer_store.Review`.
- `offline_reply`: domain.yml's built-in urgent reply generated from regions.yml
  (`make offline-reply`) and checked by `make validate`.

docs/content-guide.md explains them to content staff.
"""
