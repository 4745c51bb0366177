"""django-allauth's Atlassian provider, with its URLs taken from ATLASSIAN_AUTH_URL and ATLASSIAN_API_URL."""
