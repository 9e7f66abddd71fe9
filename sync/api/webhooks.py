"""Webhooks over the API: a client manages its own subscriptions and reads their delivery log
(sync.webhooks explains the payload, the signature and the retries).

- /api/v1/webhooks/ list, create; /api/v1/webhooks/<id>/ retrieve, update, delete;
- /api/v1/webhooks/<id>/deliveries/ the log, newest first;
  /api/v1/webhooks/<id>/deliveries/<delivery id>/ one delivery with its payload;
  POST /api/v1/webhooks/<id>/deliveries/<delivery id>/resend/ sends it again.

A token client sees and changes only its own webhooks, with the scope ``webhooks`` its
administrators gave it (``read`` to list them and their log, ``write`` to register, change, delete
and re-send; ``*`` counts too). Each webhook is sent only the changes its client may read (the
feed's scopes and, for an operator, its own records). An administrator (browser session) sees every
client's webhooks; anybody else is refused (403 ``not_an_api_client``).
"""

import json

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.geojson import UUID_PATTERN
from sync import services
from sync.auth import client_of
from sync.feed import encode_cursor
from sync.models import Webhook, WebhookDelivery


class WebhookSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    client = serializers.CharField(source="client.name", read_only=True)
    url = serializers.URLField(max_length=500, help_text=_("Where the changes are POSTed."))
    types = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        help_text=_(
            'Resources whose changes are sent, e.g. ["stations"] (empty: all you may read).'
        ),
    )
    is_active = serializers.BooleanField(required=False, default=True)
    cursor = serializers.SerializerMethodField(
        help_text=_("The feed position sent up to (a change feed cursor).")
    )

    class Meta:
        model = Webhook
        fields = ["id", "client", "url", "types", "is_active", "cursor", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def get_cursor(self, webhook) -> str:
        return encode_cursor(webhook.after_seq)


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text=_(
            "The signing secret: given only in this answer. Check X-Hanoi-Signature with it."
        ),
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class DeliverySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "status",
            "first_seq",
            "last_seq",
            "event_count",
            "attempts",
            "last_attempt_at",
            "next_attempt_at",
            "response_status",
            "error",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields


class DeliveryDetailSerializer(DeliverySerializer):
    payload = serializers.SerializerMethodField(help_text=_("The JSON body that is POSTed."))

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "payload"]
        read_only_fields = fields

    def get_payload(self, delivery) -> dict:
        return json.loads(delivery.payload)


DELIVERY_ID = r"(?P<delivery_id>[0-9a-fA-F-]{36})"


@extend_schema_view(
    list=extend_schema(summary=_("Your webhooks")),
    create=extend_schema(
        summary=_("Register a webhook"),
        description=_(
            "The changes of the chosen types (or all you may read) made from now on are POSTed "
            "to `url` in batches of up to 100 events, signed with HMAC-SHA256: X-Hanoi-Signature "
            "is `sha256=` and the hex HMAC of `{X-Hanoi-Timestamp}.{raw body}` with `secret`, "
            "which only this answer gives. Failed deliveries are retried with exponential backoff."
        ),
        responses={201: WebhookCreatedSerializer},
    ),
    retrieve=extend_schema(summary=_("A webhook")),
    update=extend_schema(summary=_("Change a webhook")),
    partial_update=extend_schema(summary=_("Change a webhook")),
    destroy=extend_schema(summary=_("Delete a webhook and its delivery log")),
)
class WebhookViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = WebhookSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    lookup_value_regex = UUID_PATTERN
    cursor_ordering = "-id"
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Webhook.objects.none()
        user = self.request.user
        webhooks = Webhook.objects.select_related("client")
        client = client_of(user)
        if client is not None:
            return webhooks.filter(client=client)
        if services._is_admin(user):
            return webhooks
        raise exceptions.PermissionDenied(
            _("Webhooks belong to API clients: call with your client's token."),
            code="not_an_api_client",
        )

    def create(self, request, *args, **kwargs):
        client = client_of(request.user)
        if client is None:
            raise exceptions.PermissionDenied(
                _("Webhooks belong to API clients: call with your client's token."),
                code="not_an_api_client",
            )
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        webhook = services.save_webhook(
            request.user,
            client,
            url=data["url"],
            types=data.get("types", []),
            is_active=data.get("is_active", True),
        )
        return Response(WebhookCreatedSerializer(webhook).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        webhook = self.get_object()
        serializer = self.get_serializer(webhook, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        webhook = services.save_webhook(
            request.user,
            webhook.client,
            webhook,
            url=data.get("url", webhook.url),
            types=data.get("types", webhook.types),
            is_active=data.get("is_active", webhook.is_active),
        )
        return Response(self.get_serializer(webhook).data)

    def perform_destroy(self, instance):
        services.delete_webhook(self.request.user, instance)

    @extend_schema(
        summary=_("The delivery log of a webhook"),
        description=_("Newest first, with attempts, the last answer or error and the next try."),
        responses={200: DeliverySerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, id=None):
        webhook = self.get_object()
        queryset = WebhookDelivery.objects.filter(webhook=webhook)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    def _delivery(self, delivery_id):
        webhook = self.get_object()
        return get_object_or_404(WebhookDelivery, webhook=webhook, public_id=delivery_id)

    @extend_schema(summary=_("One delivery, with its payload"), responses=DeliveryDetailSerializer)
    @action(detail=True, methods=["get"], url_path=f"deliveries/{DELIVERY_ID}")
    def delivery(self, request, id=None, delivery_id=None):
        return Response(DeliveryDetailSerializer(self._delivery(delivery_id)).data)

    @extend_schema(
        summary=_("Send a delivery again"),
        description=_(
            "Starts the delivery over (attempts from zero) and queues it at once, whatever its "
            "status. The subscriber gets the same X-Hanoi-Delivery id again."
        ),
        request=None,
        responses={
            202: DeliverySerializer,
            409: OpenApiResponse(description=_("`webhook_inactive`: switch it on first.")),
        },
    )
    @action(detail=True, methods=["post"], url_path=f"deliveries/{DELIVERY_ID}/resend")
    def resend(self, request, id=None, delivery_id=None):
        delivery = services.resend_delivery(request.user, self._delivery(delivery_id))
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
