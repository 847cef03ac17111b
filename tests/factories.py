"""factory_boy factories for every model, with Faker values."""
import factory
from django.contrib.auth import get_user_model

from playlists.models import Collaborator, Playlist, PlaylistTrack, Track
from recommendations.models import Interaction

GENRES = ["pop", "rock", "rap", "edm", "latin", "r&b"]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"listener{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery-9")
    preferences = factory.LazyFunction(dict)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy passes the object
        if create:
            obj.save()


class TrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Track

    external_id = factory.Sequence(lambda n: f"test-track-{n}")
    title = factory.Faker("sentence", nb_words=3)
    artist = factory.Faker("name")
    album = factory.Faker("word")
    duration_ms = factory.Faker("pyint", min_value=90_000, max_value=400_000)
    genre = factory.Iterator(GENRES)
    features = factory.LazyFunction(
        lambda: {
            "danceability": 0.6, "energy": 0.7, "valence": 0.5, "acousticness": 0.1,
            "instrumentalness": 0.0, "liveness": 0.1, "speechiness": 0.05,
            "loudness": -6.0, "tempo": 120.0, "key": 5, "mode": 1,
        }
    )
    metadata = factory.LazyAttribute(lambda t: {"genres": [t.genre], "popularity": 50})


class PlaylistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Playlist

    name = factory.Faker("catch_phrase")
    owner = factory.SubFactory(UserFactory)


class PlaylistTrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlaylistTrack

    playlist = factory.SubFactory(PlaylistFactory)
    track = factory.SubFactory(TrackFactory)
    position = factory.Sequence(lambda n: n)
    added_by = factory.SelfAttribute("playlist.owner")


class CollaboratorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collaborator

    playlist = factory.SubFactory(PlaylistFactory, is_collaborative=True)
    user = factory.SubFactory(UserFactory)


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    user = factory.SubFactory(UserFactory)
    track = factory.SubFactory(TrackFactory)
    type = Interaction.Type.PLAY
