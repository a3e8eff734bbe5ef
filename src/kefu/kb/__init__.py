"""Help centre (帮助中心): categories, bilingual articles, feedback and the search index."""
