from django.contrib import admin, messages

from audotics.exceptions import ApplicationError

from .models import BatchChunk, BatchRun, Interaction, ModelVersion


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ("user", "type", "track", "created_at")
    list_filter = ("type", "track__genre")
    search_fields = ("user__username", "track__title", "track__artist")
    raw_id_fields = ("user", "track")
    readonly_fields = ("id", "created_at")
    date_hierarchy = "created_at"


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "status", "is_active", "ndcg10", "recall20",
                    "trained_on_interactions", "trained_on_users", "trained_on_tracks")
    list_filter = ("status", "is_active")
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    actions = ["activate", "roll_back"]

    @admin.display(description="NDCG@10")
    def ndcg10(self, obj):
        return obj.metrics.get("ndcg@10")

    @admin.display(description="Recall@20")
    def recall20(self, obj):
        return obj.metrics.get("recall@20")

    def has_add_permission(self, request):
        return False  # versions come from training only

    @admin.action(description="Activate the selected version")
    def activate(self, request, queryset):
        from .services import training

        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version.", messages.ERROR)
            return
        try:
            v = training.model_version_activate(version=queryset.get())
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"Version {v.pk} is now active.")

    @admin.action(description="Roll back to the previously active version")
    def roll_back(self, request, queryset):
        from .services import training

        try:
            v = training.model_version_rollback()
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"Rolled back: version {v.pk} is active again.")


class BatchChunkInline(admin.TabularInline):
    model = BatchChunk
    extra = 0
    can_delete = False
    readonly_fields = ("index", "worker", "users", "lists", "attempts", "seconds", "finished_at")


@admin.register(BatchRun)
class BatchRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "finished_at", "model_version", "users_total", "users_done",
                    "chunks_total", "chunks_done")
    readonly_fields = [f.name for f in BatchRun._meta.fields]
    inlines = [BatchChunkInline]

    def has_add_permission(self, request):
        return False  # runs come from the batch job only
