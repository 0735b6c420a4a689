from django.urls import path

from undersigned.sharing import views

app_name = "sharing"

urlpatterns = [
    path("p/<slug:slug>/badge.svg", views.badge, name="badge"),
    path("p/<slug:slug>/embed/", views.embed, name="embed"),
    path("p/<slug:slug>/og.png", views.preview_image, name="og"),
    path("p/<slug:slug>/qr.svg", views.qr, name="qr"),
]
