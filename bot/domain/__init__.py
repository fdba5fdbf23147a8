"""The network's rules: its vocabulary, when activities happen, posting and managing them,
campaigns, safeguarding, translations, retention, import and export, deep links."""
