"""django-allauth's GitHub provider, with its URLs taken from GITHUB_WEB_URL and GITHUB_API_URL (so GitHub
Enterprise Server and the sandbox work), using the GitHub App's own OAuth client."""
