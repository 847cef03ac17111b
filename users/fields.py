"""Model fields whose values are stored AES-GCM encrypted (see users/crypto.py).

The associated data names the row's primary key, which `from_db_value` never sees, so values are
decrypted lazily by a descriptor on first attribute access (the loaded ciphertext is kept as a
`Ciphertext` marker until then). Encryption happens in `pre_save`, when the instance is known;
the primary key must therefore be set before the first save (UUID defaults are).

Consequences: equality lookups on these fields are refused (use the blind index column instead),
`values()`/`values_list()` return ciphertext, and `QuerySet.update()` only accepts `Ciphertext`.
"""

from __future__ import annotations

from django import forms
from django.core import validators
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from . import crypto


class Ciphertext(str):
    """A value known to be ciphertext already: written as-is, decrypted on attribute access."""


class EncryptedAttribute(DeferredAttribute):
    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Ciphertext):
            value = self.field.decrypt_for(instance, value)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance, value):
        # A data descriptor, so that __get__ runs even when the instance dict holds the value.
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    descriptor_class = EncryptedAttribute

    def associated_data(self, instance: models.Model) -> bytes:
        if instance.pk is None:
            raise ValueError(
                f"{self.model.__name__}.{self.name}: the primary key must be set before an "
                "encrypted field is saved (it is part of the associated data)."
            )
        return crypto.associated_data(self.model._meta.db_table, self.column, instance.pk)

    def encrypt_for(self, instance: models.Model, plaintext: str) -> Ciphertext:
        return Ciphertext(crypto.encrypt(plaintext, aad=self.associated_data(instance)))

    def decrypt_for(self, instance: models.Model, token: str) -> str:
        return crypto.decrypt(token, aad=self.associated_data(instance))

    def raw_value(self, instance: models.Model) -> str | None:
        """The stored ciphertext if the value was loaded and not yet read, else None."""
        value = instance.__dict__.get(self.attname)
        return value if isinstance(value, Ciphertext) else None

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return Ciphertext(value)

    def to_python(self, value):
        if value is None or isinstance(value, Ciphertext):
            return value
        return super().to_python(value)

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if value is None or value == "":
            return value
        return self.encrypt_for(model_instance, str(value))

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None or value == "" or isinstance(value, Ciphertext):
            return value
        if hasattr(value, "resolve_expression"):
            return value
        raise ValueError(
            f"{self.model.__name__}.{self.name} is encrypted: plaintext cannot be written or "
            "queried without a model instance (save() the instance, or use the blind index)."
        )

    def get_prep_value(self, value):
        if isinstance(value, Ciphertext):
            return value
        return super().get_prep_value(value)


class EncryptedEmailField(EncryptedTextField):
    default_validators = [validators.validate_email]

    def formfield(self, **kwargs):
        return super().formfield(
            **{
                "form_class": forms.EmailField,
                "max_length": 254,
                "widget": forms.EmailInput,
                **kwargs,
            }
        )
