from django.urls import path

from benchsite import views
from undersigned.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    path("bench/trivial", views.trivial, name="bench-trivial"),
    path("bench/insert", views.insert, name="bench-insert"),
    path("bench/sign-floor/<slug:slug>", views.sign_floor, name="bench-sign-floor"),
    *product_urlpatterns,
]
