"""Every Spanish sentence the user reads, in one place so wording is reviewed here."""

from __future__ import annotations

BOT_NAME = "Tertulia"

# Commands as phones show them in the menu (setMyCommands): name -> short description.
COMMAND_MENU: dict[str, str] = {
    "ayuda": "Qué sé hacer y cómo pedírmelo",
    "traducir": "Traducir entre español e inglés",
    "resumir": "Resumir un texto",
    "contexto": "Fijar el texto de lectura del chat",
    "pregunta": "Preguntar sobre el texto de lectura",
    "fin": "Salir del modo preguntas",
    "olvidar": "Borrar todo lo guardado de este chat",
    "clasificar": "Clasificar un texto con tus etiquetas",
    "sentimiento": "Sentimiento de un texto",
    "idioma": "Detectar el idioma",
    "completar": "Completar la palabra que falta",
    "poema": "Escribir un poema a partir de un comienzo",
    "pos": "Categoría gramatical de cada palabra",
    "estado": "Estado de los modelos (administradores)",
}

# One example per command for /ayuda and for the usage messages.
EXAMPLES: dict[str, str] = {
    "traducir": "/traducir Hoy hace un día precioso",
    "resumir": "/resumir (pega aquí un texto largo)",
    "contexto": "/contexto El Quijote fue escrito por Miguel de Cervantes en 1605.",
    "pregunta": "/pregunta ¿Quién escribió el Quijote?",
    "clasificar": "/clasificar El Madrid ganó la final | deportes, política, economía",
    "sentimiento": "/sentimiento Me encantó la película",
    "idioma": "/idioma Bonjour tout le monde",
    "completar": "/completar La capital de Francia es <mask>.",
    "poema": "/poema La luna sobre el mar",
    "pos": "/pos El gato duerme en el sofá",
}

WELCOME = (
    "¡Hola! Soy <b>Tertulia</b>, tu asistente de lenguaje. Traduzco, resumo, respondo "
    "preguntas sobre un texto, clasifico, completo palabras, escribo poemas y analizo "
    "frases. En grupos, responde a un mensaje con un comando para usarlo sobre ese mensaje."
)
HELP_TITLE = "<b>Comandos</b>"
HELP_FOOTER = (
    "En un chat privado también puedes enviarme un texto sin comando y elegir qué hago con él."
)

# Errors
ERROR_MODEL_UNAVAILABLE = (
    "⚠️ Ahora mismo no puedo usar el modelo de {task} (<code>{model}</code>). "
    "Inténtalo más tarde; el resto de funciones siguen disponibles."
)
ERROR_BUSY = "⏳ Estoy ocupado, prueba en unos segundos."
ERROR_TOO_LONG = (
    "✂️ El texto es demasiado largo: tiene {length} caracteres y el máximo es {limit}. "
    "Envíame un fragmento más corto."
)
ERROR_INVALID = "🤔 No he podido procesar ese texto. Revisa el formato con /ayuda."
ERROR_INFERENCE = (
    "😓 El modelo de {task} ha fallado con este texto. Prueba con otro texto o más tarde."
)
ERROR_UNEXPECTED = (
    "😓 Lo siento, algo ha salido mal. Si vuelve a pasar, comunica este código: "
    "<code>{error_id}</code>."
)
ERROR_STORE = "😓 No puedo acceder a mis datos guardados ahora mismo. Inténtalo en unos minutos."
ERROR_DOCUMENT_TOO_BIG = "📄 El documento es demasiado grande: el máximo es {limit_kb} KB."
ERROR_DOCUMENT_KIND = "📄 Solo puedo leer documentos de texto (<code>.txt</code>)."
ERROR_DOCUMENT_ENCODING = "📄 No he podido leer el documento como texto UTF-8."
ERROR_EXPIRED_BUTTON = "Ese botón ya no funciona. Envíame el texto de nuevo."
NOT_ALLOWED = "Lo siento, este bot no está disponible en este chat."
RATE_LIMITED = "🐢 Vas muy rápido. Espera {seconds} segundos y vuelve a intentarlo."
ADMIN_ONLY = "Este comando es solo para administradores."
UNKNOWN_COMMAND = "No conozco ese comando. Escribe /ayuda para ver lo que sé hacer."

USAGE = "Uso: {usage}\nEjemplo: <code>{example}</code>"

# How each task is named in messages ("el modelo de {task}").
TASK_NAMES: dict[str, str] = {
    "translate_es_en": "traducción del español al inglés",
    "translate_en_es": "traducción del inglés al español",
    "summarize": "resúmenes",
    "qa": "preguntas y respuestas",
    "zero_shot": "clasificación",
    "fill_mask": "completar palabras",
    "poem": "poemas",
    "pos": "análisis gramatical",
    "sentiment": "sentimiento",
    "language": "detección de idioma",
}

# Transports
CONSOLE_INTRO = (
    "Tertulia en la consola. Escribe un comando (/ayuda para verlos) o un texto; "
    "Ctrl+D para salir."
)
CONSOLE_TELEGRAM_HINT = (
    "Para conectar Telegram, pon TELEGRAM_BOT_TOKEN=<token de @BotFather> en el entorno o en .env."
)
CONSOLE_CHOOSE = "Elige un número o escribe otro mensaje:"
CONSOLE_BAD_CHOICE = "Ese número no corresponde a ninguna opción."
SHUTTING_DOWN = "🔄 Me estoy reiniciando. Vuelve a enviarme tu mensaje en un momento."
