"""The sharing app's synced resource: the register of shareable infrastructure assets."""

from django.utils.translation import gettext_lazy as _

from sync import Resource, register


def _assets(user):
    from sharing import selectors

    return selectors.assets(user)


def _state():
    from sharing.models import InfrastructureAsset

    return InfrastructureAsset._base_manager.all()


def _save(user, asset, data):
    from sharing import services

    return services.save_asset(user, asset, **data)


def _delete(user, asset):
    from sharing import services

    services.delete_asset(user, asset)


def _register():
    from sharing.api.serializers import ASSET_API_PROPERTIES
    from sharing.models import InfrastructureAsset

    register(
        Resource(
            name="assets",
            model=InfrastructureAsset,
            label=_("Shareable assets"),
            geometry="geometry",
            properties=ASSET_API_PROPERTIES,
            org_field="owner",
            open_to_all=True,  # the register is visible to every role (sharing.selectors.assets)
            state_queryset=_state,
            selector=_assets,
            serializer="sharing.api.serializers.AssetSerializer",
            save=_save,
            delete=_delete,
            public=True,
        )
    )


_register()
