from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("metrics", views.metrics, name="metrics"),
    path("admin/overview/", admin.site.admin_view(views.overview), name="admin-overview"),
]
