"""`ilike`: case-insensitive substring match that PostgreSQL's trigram GIN index can serve.

Django's `icontains` compiles to `UPPER(col) LIKE UPPER(%s)`, which a plain `gin_trgm_ops`
index on `col` cannot use; `col ILIKE %s` can. Other databases get Django's `icontains`.
"""
from django.db.models import CharField, Lookup, TextField


class ILikeContains(Lookup):
    lookup_name = "ilike"

    def process_rhs(self, compiler, connection):
        sql, params = super().process_rhs(compiler, connection)
        params = [f"%{connection.ops.prep_for_like_query(p)}%" for p in params]
        return sql, params

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs} ESCAPE '\\'", [*lhs_params, *rhs_params]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs}::text ILIKE {rhs}", [*lhs_params, *rhs_params]


CharField.register_lookup(ILikeContains)
TextField.register_lookup(ILikeContains)
