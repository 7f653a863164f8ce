from django.contrib.admin.apps import AdminConfig


class ThisthatAdminConfig(AdminConfig):
    """django.contrib.admin on our site class, whose login is rate limited (thisthat.admin)."""

    default_site = "thisthat.admin.ThisthatAdminSite"
