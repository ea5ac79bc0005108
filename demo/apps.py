from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Original demo content for the newsroom (`manage.py load_demo_content`): it builds on
    articles and newsletters, and neither knows of it."""

    name = "demo"
    verbose_name = "Demo content"
